/**
 * Fault tests: a department killed, Redis stopped and the store stopped, each for a few seconds
 * in the middle of a bounded load (a fixed number of concurrent clients for a fixed time) of
 * partner queries and penalty decisions. Each test asserts that:
 *   - no answer is unexpected: every one is complete, or partial with DEPARTMENT_UNAVAILABLE, or
 *     refused with DEPARTMENT_UNAVAILABLE or STORE_UNAVAILABLE; never a 5xx, an internal error or
 *     a dropped connection;
 *   - nothing acknowledged is lost: every decision answered with its record is stored afterwards;
 *   - service recovers by itself, without restarting the gateway.
 *
 * The gateway under test is one of its own in front of the federation's departments, with its
 * Redis reached through a TCP proxy the test cuts, and a short circuit cool-down. The department
 * is closed and started again on its port. The store is cut for one department: it is restarted
 * on its port reaching the store through a TCP proxy, which the test cuts and restores, so the
 * test runs the same whether the store is embedded or MONGODB_URI's.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { trusted } from 'mongoose';
import { createAssertionVerifier } from '../lib/identity/assertion.ts';
import { createLogger } from '../lib/logger.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { connectDatabase, departmentDatabaseName } from '../lib/stores/mongo.ts';
import { rateKeys } from '../gateway/rate-limits.ts';
import type { Gateway } from '../gateway/server.ts';
import { departments } from '../subgraphs/departments.ts';
import { startSubgraph } from '../subgraphs/runtime/server.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { INSPECTOR, NO_LIMITS, startFederation, type Caller, type Federation } from './support/federation.ts';
import { startGatewayBeside } from './support/gateway-beside.ts';
import { post } from './support/http.ts';
import { publishPolicyChange, setConsumerFields } from './support/policy-change.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const SUBJECT = seedSubject(2);
const PENALISED = seedSubject(3);
const BANK: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
const ECOLOGY: Caller = { consumer: 'ecology-bureau', purpose: 'RECORD_KEEPING' };
const PARTNER_QUERY = `{ subject(uscc: "${SUBJECT.uscc}") { name taxViolations { caseNumber } administrativePenalties { decisionNumber } } }`;
const RECORD = `mutation Record($input: AdministrativePenaltyInput!) { recordAdministrativePenalty(input: $input) { decisionNumber } }`;

interface LoadResult {
  complete: number;
  degraded: number;
  unexpected: string[];
  /** Decision numbers answered with their record. */
  acknowledged: string[];
}

describe('faults under load', () => {
  let federation: Federation;
  let redisProxy: TcpProxy;
  let sharedStore: SharedStore;
  let gateway: Gateway;
  let sent = 0;

  const ask = (caller: Caller, query: string, variables?: Record<string, unknown>) => {
    const key = federation.apiKeys.get(caller.consumer) ?? '';
    return post(gateway.graphqlUrl, { 'x-api-key': key, 'x-credence-purpose': caller.purpose ?? '' }, query, variables);
  };

  /**
   * One request of the load: every third a penalty decision, else the partner query. `faultCode`
   * is the one code the fault may cause (the penalties department's fields null with it, the
   * other departments' data kept); any other error is unexpected.
   */
  async function oneRequest(result: LoadResult, faultCode: string | null): Promise<void> {
    const n = sent++;
    const decisionNumber = `FAULT-${process.pid}-${n}`;
    const isWrite = n % 3 === 0;
    try {
      const answer = isWrite
        ? await ask(ECOLOGY, RECORD, { input: decision(decisionNumber) })
        : await ask(BANK, PARTNER_QUERY);
      const codes = (answer.body.errors ?? []).map((error) => String(error.extensions?.code));
      if (answer.status !== 200)
        return void result.unexpected.push(`HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
      if (codes.length === 0) {
        result.complete += 1;
        if (isWrite) {
          assert.equal(
            (answer.body.data?.recordAdministrativePenalty as { decisionNumber: string }).decisionNumber,
            decisionNumber,
          );
          result.acknowledged.push(decisionNumber);
        }
        return;
      }
      if (!codes.every((code) => code === faultCode)) return void result.unexpected.push(answer.text.slice(0, 300));
      if (isWrite) {
        // A decision the penalties department could not store: no record, so nothing acknowledged.
        if (answer.body.data?.recordAdministrativePenalty != null)
          result.unexpected.push(`a refused write with data: ${answer.text.slice(0, 300)}`);
      } else {
        // A partial answer: that department's fields null, the other departments' data kept.
        const subject = answer.body.data?.subject as {
          name?: string;
          taxViolations?: unknown;
          administrativePenalties?: unknown;
        } | null;
        const partial =
          subject?.name === SUBJECT.name &&
          Array.isArray(subject.taxViolations) &&
          subject.administrativePenalties === null;
        if (!partial)
          result.unexpected.push(`not the partial answer of the other departments: ${answer.text.slice(0, 300)}`);
      }
      result.degraded += 1;
    } catch (error) {
      result.unexpected.push(`request failed: ${(error as Error).message}`);
    }
  }

  /** `concurrency` clients sending back to back for `durationMs`; the fault starts after 1 s and lasts `faultMs`. */
  async function loadWithFault(
    fault: { cut: () => Promise<void>; restore: () => Promise<void>; code: string | null },
    faultMs = 2500,
    durationMs = 6000,
    concurrency = 4,
  ): Promise<LoadResult> {
    const result: LoadResult = { complete: 0, degraded: 0, unexpected: [], acknowledged: [] };
    const deadline = Date.now() + durationMs;
    const clients = Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) await oneRequest(result, fault.code);
    });
    const schedule = (async () => {
      await sleep(1000);
      await fault.cut();
      await sleep(faultMs);
      await fault.restore();
    })();
    await Promise.all([...clients, schedule]);
    return result;
  }

  function decision(decisionNumber: string): Record<string, unknown> {
    return {
      uscc: PENALISED.uscc,
      decisionNumber,
      authority: '北京市生态环境局',
      legalBasis: '《中华人民共和国大气污染防治法》第九十九条',
      violation: '超标排放大气污染物',
      category: 'POLLUTION',
      penaltyType: 'FINE',
      fineAmount: 1000,
      severity: 'GENERAL',
      decidedOn: '2026-10-15',
    };
  }

  /** Starts a stopped department again on its port, as the federation started it. */
  async function restartDepartment(department: (typeof departments)[number], port: number): Promise<void> {
    const restarted = await startSubgraph(department, {
      mongoUri: federation.mongo.uri,
      policies: federation.policies,
      assertions: createAssertionVerifier({
        publicKeys: { [federation.assertionKeys.keyId]: federation.assertionKeys.publicKeyPem },
      }),
      replayGuard: federation.replayGuard,
      port,
    });
    federation.subgraphs.set(department.name, restarted);
  }

  /** Polls the partner query until it is answered complete; returns how long that took. */
  async function recovery(timeoutMs = 20_000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const answer = await ask(BANK, PARTNER_QUERY);
      if (answer.status === 200 && answer.body.errors === undefined) return Date.now() - started;
      if (Date.now() - started > timeoutMs) assert.fail(`no recovery within ${timeoutMs} ms: ${answer.text}`);
      await sleep(200);
    }
  }

  /** Every acknowledged decision is stored (read back as the inspector, who sees all records). */
  async function assertNothingLost(acknowledged: readonly string[]): Promise<void> {
    const answer = await federation.query(
      `{ subject(uscc: "${PENALISED.uscc}") { administrativePenalties { decisionNumber } } }`,
      undefined,
      INSPECTOR,
    );
    const stored = new Set(
      (
        answer.body.data?.subject as { administrativePenalties: { decisionNumber: string }[] }
      ).administrativePenalties.map((p) => p.decisionNumber),
    );
    const lost = acknowledged.filter((number) => !stored.has(number));
    assert.deepEqual(lost, [], 'acknowledged decisions missing from the store');
  }

  function report(name: string, result: LoadResult, recoveredInMs: number): void {
    process.stdout.write(
      `# ${name}: ${result.complete} complete, ${result.degraded} degraded, ${result.unexpected.length} unexpected, ` +
        `${result.acknowledged.length} decisions acknowledged, recovered ${recoveredInMs} ms after the fault ended\n`,
    );
  }

  before(async () => {
    federation = await startFederation({ subjects: 10 });
    redisProxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    sharedStore = await connectSharedStore(createLogger('faults'), { url: `redis://127.0.0.1:${redisProxy.port}` });
    gateway = await startGatewayBeside(federation, sharedStore, (config) => ({
      circuitCooldownMs: 300,
      defaultLimits: {
        ...config.defaultLimits,
        requestsPerMinute: NO_LIMITS.requestsPerMinute,
        requestsPerDay: NO_LIMITS.requestsPerDay,
      },
    }));
  });
  after(async () => {
    await gateway.close();
    await sharedStore.close();
    await redisProxy.close();
    await federation.close();
  });

  it('counts rate limits in Redis, shared by gateway instances: a limit of 4 a minute is reached across two gateways', async () => {
    await setConsumerFields(federation.policiesDir, 'privacy-office', { limits: { requestsPerMinute: 4 } });
    await publishPolicyChange(federation);
    const office: Caller = { consumer: 'privacy-office', purpose: 'AUDIT' };
    const statuses: number[] = [];
    for (const via of [gateway, federation.gateway, gateway, federation.gateway, gateway]) {
      const answer = await post(
        via.graphqlUrl,
        { 'x-api-key': federation.apiKeys.get(office.consumer) ?? '' },
        '{ __typename }',
      );
      statuses.push(answer.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
  });

  it('a department killed: partial answers with DEPARTMENT_UNAVAILABLE, nothing acknowledged lost, recovery when it restarts', async () => {
    const department = departments.find((candidate) => candidate.name === 'penalties');
    const running = federation.subgraphs.get('penalties');
    assert.ok(department && running);
    const port = Number(new URL(running.url).port);
    const result = await loadWithFault({
      code: 'DEPARTMENT_UNAVAILABLE',
      cut: () => running.close(),
      restore: () => restartDepartment(department, port),
    });
    const recoveredInMs = await recovery();
    report('department killed', result, recoveredInMs);
    assert.deepEqual(result.unexpected, []);
    assert.ok(result.degraded > 0, 'the fault was seen');
    assert.ok(result.acknowledged.length > 0);
    await assertNothingLost(result.acknowledged);
  });

  it("the gateway's /status names each department's circuit: open while the department is down, closed once it answers again", async () => {
    const circuits = async (): Promise<Record<string, string>> => {
      const response = await fetch(new URL('/status', gateway.url));
      return ((await response.json()) as { circuits: Record<string, string> }).circuits;
    };
    const askPenalties = (): Promise<unknown> =>
      ask(INSPECTOR, `{ subject(uscc: "${PENALISED.uscc}") { administrativePenalties { decisionNumber } } }`);
    await askPenalties();
    assert.equal((await circuits()).penalties, 'closed');
    const department = departments.find((candidate) => candidate.name === 'penalties');
    const running = federation.subgraphs.get('penalties');
    assert.ok(department && running);
    const port = Number(new URL(running.url).port);
    await running.close();
    // More consecutive failures than the threshold (5) open the department's circuit.
    for (let call = 0; call < 7; call++) await askPenalties();
    assert.equal((await circuits()).penalties, 'open');
    await restartDepartment(department, port);
    await recovery();
    await askPenalties();
    assert.equal((await circuits()).penalties, 'closed');
  });

  it('Redis stopped: every request still served (limits counted per instance), shared counting resumes by itself', async () => {
    const result = await loadWithFault({
      code: null,
      cut: () => redisProxy.cut(),
      restore: () => redisProxy.restore(),
    });
    const recoveredInMs = await recovery();
    report('Redis stopped', result, recoveredInMs);
    assert.deepEqual(result.unexpected, []);
    assert.equal(result.degraded, 0, 'Redis down degrades nothing a consumer sees');
    await assertNothingLost(result.acknowledged);

    // Back in Redis: a request is counted there again (the rate-limit key reappears).
    const direct = new Redis('redis://127.0.0.1:6379');
    try {
      const key = rateKeys(process.env.CREDENCE_REDIS_NAMESPACE ?? 'credence', 'central-bank').minute;
      const deadline = Date.now() + 10_000;
      let counted = false;
      while (!counted && Date.now() < deadline) {
        await direct.del(key);
        await ask(BANK, PARTNER_QUERY);
        counted = (await direct.exists(key)) === 1;
        if (!counted) await sleep(200);
      }
      assert.ok(counted, 'requests are counted in Redis again');
    } finally {
      direct.disconnect();
    }
  });

  describe('the store stopped, for the penalties department', () => {
    let result: LoadResult;
    let storeProxy: TcpProxy;

    before(async () => {
      // The penalties department, restarted on its port, reaches the store through a proxy.
      const department = departments.find((candidate) => candidate.name === 'penalties');
      const running = federation.subgraphs.get('penalties');
      assert.ok(department && running);
      const mongoPort = Number(new URL(federation.mongo.uri).port);
      storeProxy = await startTcpProxy({ host: new URL(federation.mongo.uri).hostname, port: mongoPort });
      await running.close();
      federation.subgraphs.set(
        'penalties',
        await startSubgraph(department, {
          mongoUri: storeProxy.through(federation.mongo.uri),
          policies: federation.policies,
          assertions: createAssertionVerifier({
            publicKeys: { [federation.assertionKeys.keyId]: federation.assertionKeys.publicKeyPem },
          }),
          replayGuard: federation.replayGuard,
          port: Number(new URL(running.url).port),
        }),
      );
      await recovery();
    });
    after(() => storeProxy.close());

    it("answers STORE_UNAVAILABLE while it is down, that department's fields null and the others' data kept, and every acknowledged decision is in the store", async () => {
      // Longer than the 5 s a department waits for the store before answering STORE_UNAVAILABLE:
      // a shorter outage only delays answers.
      result = await loadWithFault(
        { code: 'STORE_UNAVAILABLE', cut: () => storeProxy.cut(), restore: () => storeProxy.restore() },
        7000,
        11_000,
      );
      process.stdout.write(
        `# store stopped: ${result.complete} complete, ${result.degraded} degraded, ${result.unexpected.length} unexpected, ${result.acknowledged.length} decisions acknowledged\n`,
      );
      assert.deepEqual(result.unexpected, []);
      assert.ok(result.degraded > 0, 'STORE_UNAVAILABLE was answered');
      assert.ok(result.acknowledged.length > 0);
      // Read from the store itself, not through a department.
      const connection = await connectDatabase(federation.mongo.uri, departmentDatabaseName('penalties'));
      try {
        const stored = new Set(
          (
            await connection
              .collection<{ decisionNumber: string }>('penalties')
              .find({ decisionNumber: trusted({ $in: result.acknowledged }) })
              .project<{ decisionNumber: string }>({ decisionNumber: 1 })
              .toArray()
          ).map((document) => document.decisionNumber),
        );
        assert.deepEqual(
          result.acknowledged.filter((number) => !stored.has(number)),
          [],
          'acknowledged decisions missing from the store',
        );
      } finally {
        await connection.close();
      }
    });

    // Recovery rests on lib/stores/stuck-check.ts: without it, the driver's check of the store
    // can stay stuck after the store returns, and the department unavailable.
    it('recovers by itself once the store is back', async () => {
      const recoveredInMs = await recovery(30_000);
      process.stdout.write(`# store stopped: recovered ${recoveredInMs} ms after the fault ended\n`);
      await assertNothingLost(result.acknowledged);
    });
  });
});
