/**
 * Scale out on one machine (issue 16, "Scale out, on paper and in files"): the topology of
 * docs/deployment.md in small. Two gateways behind a round-robin balancer, and two instances of
 * the registry department behind another, on the real store and real Redis, every server a real
 * HTTP server on port 0. Each gateway has its own Redis connection, its own policy runtime (the
 * same signed release), and its own access-log chain; the registry instances share only the
 * store and Redis, as pods do.
 *
 * Under a few hundred concurrent requests for many distinct subjects, every answer must be the
 * one a single gateway in front of single departments gives (itself checked against the store),
 * both gateways and both registry instances must have served, and each gateway's chain must
 * verify on its own. What one instance accepted cannot be replayed at the other.
 *
 * All servers run in this test's process (separate processes in production); they share no
 * state but what production instances share: the store and Redis.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { readAccessLog } from '../lib/access-log/maintenance.ts';
import { startAccessLog, type OpenedAccessLog } from '../lib/access-log/process.ts';
import { connectAccessLogStore } from '../lib/access-log/store.ts';
import { verifyAccessLog } from '../lib/access-log/verify.ts';
import { ASSERTION_HEADER, createAssertionSigner, createAssertionVerifier } from '../lib/identity/assertion.ts';
import { createLogger } from '../lib/logger.ts';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { DEFAULT_SUPERGRAPH_PATH, startPolicyRuntime } from '../lib/policy/releases/process-policy.ts';
import type { PolicyRuntime } from '../lib/policy/releases/policy-in-force.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { readGatewayConfig } from '../gateway/config.ts';
import { startGateway, type Gateway } from '../gateway/server.ts';
import { departmentNamed } from '../subgraphs/departments.ts';
import { startSubgraph, type SubgraphServer } from '../subgraphs/runtime/server.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import {
  INSPECTOR,
  NO_LIMITS,
  startFederation,
  type Caller,
  type Federation,
  type GraphQLResponse,
} from './support/federation.ts';
import { assertRefused, send } from './support/http.ts';
import { fullSelection } from './support/operations.ts';
import { BALANCED_TO_HEADER, startRoundRobin, type RoundRobin } from './support/round-robin.ts';
import { assertInspectorHoldsTheTruth } from './support/store-truth.ts';

/** Distinct subjects asked for; each is asked by two consumers, so twice as many requests go through the balancers. */
const SUBJECTS = 150;
const CONCURRENCY = 24;
const GATEWAYS = 2;
const DOUBLED_DEPARTMENT = 'registry';
/** A consumer of the shipped policy in filter mode: fields it may not see come back empty, so its answers differ from the inspector's. */
const PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
/** A checkpoint every few records, so that each chain is signed well before the test ends. */
const CHECKPOINT_EVERY = 20;
const SUBGRAPH_TIMEOUT_MS = 60_000;

interface Asked {
  caller: Caller;
  code: string;
  /** The operation: with a variable for the inspector, a literal document of its own for the portal. */
  query: string;
  variables?: Record<string, unknown>;
}

interface Answered {
  asked: Asked;
  status: number;
  body: GraphQLResponse['body'];
  /** The gateway instance the front balancer sent it to. */
  gateway: number;
  requestId: string;
}

/** What must be equal between two answers: the data and each error's message, path and code; never the request id. */
function comparable(status: number, body: GraphQLResponse['body']): unknown {
  return {
    status,
    data: body.data ?? null,
    errors: (body.errors ?? []).map(({ message, path, extensions }) => ({ message, path, code: extensions?.code })),
  };
}

function requestIdOf(body: GraphQLResponse['body']): string {
  return String((body as { extensions?: { credence?: { requestId?: string } } }).extensions?.credence?.requestId ?? '');
}

/** `close` made safe to call twice (a test stops the gateways before `after` does). */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** Runs `work` on every item, at most `concurrency` at a time. */
async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

describe('scale out: two gateways and two registry instances behind round-robin balancers', () => {
  const log = createLogger('test');
  let federation: Federation;
  /** Resources this file started beside the federation, closed in reverse order. */
  const started: (() => Promise<void>)[] = [];
  let registry2: SubgraphServer;
  let departmentBalancer: RoundRobin;
  let frontBalancer: RoundRobin;
  const gateways: {
    close: { gateway: () => Promise<void>; accessLog: () => Promise<void> };
    gateway: Gateway;
    accessLog: OpenedAccessLog;
    instance: string;
  }[] = [];
  let asked: Asked[] = [];
  const answers: Answered[] = [];

  before(async () => {
    federation = await startFederation({
      subjects: SUBJECTS,
      gatewayLimits: { requestsPerMinute: NO_LIMITS.requestsPerMinute },
      subgraphTimeoutMs: SUBGRAPH_TIMEOUT_MS,
    });
    const { assertionKeys } = federation;
    const ownRuntime = async (): Promise<{ sharedStore: SharedStore; policies: PolicyRuntime }> => {
      // What a process of its own would open: a Redis connection and the signed release in force.
      const sharedStore = await connectSharedStore(log);
      started.push(() => sharedStore.close());
      const policies = await startPolicyRuntime({
        dir: federation.policiesDir,
        sharedStore,
        log,
        watch: false,
        trustedKeys: federation.releaseKeys.trusted,
      });
      started.push(() => policies.close());
      return { sharedStore, policies };
    };

    // The second registry instance: the same department on the same database, its own policy runtime.
    const second = await ownRuntime();
    registry2 = await startSubgraph(departmentNamed(DOUBLED_DEPARTMENT), {
      mongoUri: federation.mongo.uri,
      policies: second.policies,
      assertions: createAssertionVerifier({ publicKeys: { [assertionKeys.keyId]: assertionKeys.publicKeyPem } }),
      replayGuard: federation.replayGuard,
    });
    started.push(() => registry2.close());
    const registry1 = federation.subgraphs.get(DOUBLED_DEPARTMENT);
    assert.ok(registry1);
    departmentBalancer = await startRoundRobin([registry1.url, registry2.url]);
    started.push(() => departmentBalancer.close());

    const config = readGatewayConfig({ CREDENCE_REDIS_NAMESPACE: process.env.CREDENCE_REDIS_NAMESPACE });
    for (let index = 1; index <= GATEWAYS; index++) {
      const own = await ownRuntime();
      // As CREDENCE_GATEWAY_INSTANCE names it in production: one chain per gateway process.
      const instance = `scale-gateway-${index}-${process.pid}`;
      const accessLog = await startAccessLog(
        { ...config.accessLog, mongoUri: federation.mongo.uri, instance, checkpointEvery: CHECKPOINT_EVERY },
        { log, port: 0 },
      );
      assert.ok(accessLog);
      const closeAccessLog = once(() => accessLog.close());
      started.push(closeAccessLog);
      const gateway = await startGateway(
        {
          ...config,
          port: 0,
          // Every server of this test shares one process on a machine other tests load too: a
          // department call may wait long for its turn. The test is about answers, not latency.
          subgraphTimeoutMs: SUBGRAPH_TIMEOUT_MS,
          defaultLimits: { ...config.defaultLimits, requestsPerMinute: NO_LIMITS.requestsPerMinute },
          subgraphUrls: {
            ...Object.fromEntries([...federation.subgraphs].map(([name, subgraph]) => [name, subgraph.graphqlUrl])),
            [DOUBLED_DEPARTMENT]: `${departmentBalancer.url}/graphql`,
          },
        },
        {
          sharedStore: own.sharedStore,
          policies: own.policies,
          policiesDir: federation.policiesDir,
          signer: createAssertionSigner({ privateKey: assertionKeys.privateKeyPem, keyId: assertionKeys.keyId }),
          accessLog: accessLog.writer,
        },
      );
      const closeGateway = once(() => gateway.close());
      started.push(closeGateway);
      gateways.push({ close: { gateway: closeGateway, accessLog: closeAccessLog }, gateway, accessLog, instance });
    }
    frontBalancer = await startRoundRobin(gateways.map(({ gateway }) => gateway.url));
    started.push(() => frontBalancer.close());

    const full = fullSelection(buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8')), 'Subject');
    // The portal's own schema holds fewer fields: every field of it, as its introspection names them.
    const introspection = await federation.query(getIntrospectionQuery(), {}, PORTAL);
    assert.equal(introspection.status, 200, JSON.stringify(introspection.body));
    const portalFull = fullSelection(
      buildClientSchema(introspection.body.data as unknown as IntrospectionQuery),
      'Subject',
    );
    asked = Array.from({ length: SUBJECTS }, (_, index) => seedSubject(index).uscc).flatMap((code): Asked[] => [
      {
        caller: INSPECTOR,
        code,
        query: `query Subject($code: ID!) { subject(uscc: $code) ${full} }`,
        variables: { code },
      },
      { caller: PORTAL, code, query: `{ subject(uscc: "${code}") ${portalFull} }` },
    ]);
  });

  after(async () => {
    for (const stop of started.reverse()) await stop().catch(() => {});
    await federation?.close();
  });

  it('the gateways and the doubled department are ready behind their balancers', async () => {
    for (let round = 0; round < GATEWAYS; round++) {
      const ready = await fetch(`${frontBalancer.url}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
    }
    for (let round = 0; round < 2; round++) {
      const ready = await fetch(`${departmentBalancer.url}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
    }
  });

  it("under concurrent load for many distinct subjects, every answer through the balancers equals a single gateway's, which equals the store", async (t) => {
    const apiKey = (caller: Caller): string =>
      federation.apiKeys.get(caller.consumer) ?? assert.fail(`no key for ${caller.consumer}`);
    // The reference: one gateway, one instance of each department, one request at a time.
    const reference = new Map<Asked, unknown>();
    const inspectorTruth = new Map<string, Record<string, unknown>>();
    for (const one of asked) {
      const answer = await federation.query(one.query, one.variables, one.caller);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      reference.set(one, comparable(answer.status, answer.body));
      if (one.caller === INSPECTOR) {
        assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
        inspectorTruth.set(one.code, answer.body.data?.subject as Record<string, unknown>);
      }
    }
    await assertInspectorHoldsTheTruth(federation.mongo.uri, inspectorTruth, SUBJECTS);
    // The portal is shown less than the inspector (filter mode), so its comparison is not the inspector's again.
    const portalSample = asked.find((one) => one.caller === PORTAL);
    const inspectorSample = asked.find((one) => one.caller === INSPECTOR && one.code === portalSample?.code);
    assert.ok(portalSample && inspectorSample);
    assert.notDeepEqual(
      reference.get(portalSample),
      reference.get(inspectorSample),
      'the portal sees less than the inspector',
    );

    // The same requests, concurrently, through the front balancer: consecutive requests go to
    // different gateways, and each gateway's registry calls to either registry instance.
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    await runPool(asked, CONCURRENCY, async (one) => {
      const response = await fetch(`${frontBalancer.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': apiKey(one.caller),
          'x-credence-purpose': one.caller.purpose ?? '',
        },
        body: JSON.stringify({ query: one.query, variables: one.variables }),
      });
      const body = (await response.json()) as GraphQLResponse['body'];
      answers.push({
        asked: one,
        status: response.status,
        body,
        gateway: Number(response.headers.get(BALANCED_TO_HEADER)),
        requestId: requestIdOf(body),
      });
    });

    // Figures for docs/deployment.md, printed and never asserted: the whole federation but the
    // store runs in this process, on a machine other work shares.
    const cpu = process.cpuUsage(cpuBefore);
    t.diagnostic(
      `${answers.length} requests in ${((performance.now() - startedAt) / 1000).toFixed(1)} s; ` +
        `CPU of this process (2 gateways, 7 department instances, 2 balancers, the client) ${((cpu.user + cpu.system) / 1000 / answers.length).toFixed(1)} ms per request; ` +
        `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.equal(answers.length, asked.length);
    assert.deepEqual(
      [...frontBalancer.failures(), ...departmentBalancer.failures()],
      [],
      'no connection through a balancer failed',
    );
    const wrong = answers.filter((answer) => {
      try {
        assert.deepEqual(comparable(answer.status, answer.body), reference.get(answer.asked));
        return false;
      } catch {
        return true;
      }
    });
    // Named with what came back instead, so a failure says whether it was a refusal, an error or other data.
    assert.deepEqual(
      wrong.map(
        ({ asked: { caller, code }, status, body }) =>
          `${caller.consumer} ${code}: HTTP ${status}, ` +
          `errors ${JSON.stringify((body.errors ?? []).map(({ message, path, extensions }) => ({ message, path, code: extensions?.code })))}`,
      ),
      [],
      "answers that differ from the single gateway's",
    );
    assert.ok(
      answers.every(({ requestId }) => requestId !== ''),
      'every answer names its request',
    );
    assert.equal(
      new Set(answers.map(({ requestId }) => requestId)).size,
      answers.length,
      'request ids are unique across gateways',
    );
  });

  it('both gateway instances and both instances of the doubled department served traffic', (t) => {
    const byGateway = gateways.map((_, index) => answers.filter(({ gateway }) => gateway === index).length);
    t.diagnostic(
      `requests per gateway: ${byGateway.join(', ')}; registry calls per instance: ${departmentBalancer.answered().join(', ')}`,
    );
    assert.deepEqual(frontBalancer.answered(), byGateway);
    assert.ok(
      byGateway.every((count) => count > 0),
      `requests per gateway: ${byGateway.join(', ')}`,
    );
    const byRegistry = departmentBalancer.answered();
    assert.equal(byRegistry.length, 2);
    assert.ok(
      byRegistry.every((count) => count > 0),
      `registry calls per instance: ${byRegistry.join(', ')}`,
    );
  });

  it('an assertion captured between a gateway and one registry instance is refused by the other instance (ASSERTION_REPLAYED)', async () => {
    const captured = departmentBalancer.lastForwarded(1);
    assert.ok(captured, 'the second registry instance was called');
    const assertion = captured.headers[ASSERTION_HEADER];
    assert.ok(typeof assertion === 'string');
    const registry1 = federation.subgraphs.get(DOUBLED_DEPARTMENT);
    assert.ok(registry1);
    const replayed = await send(registry1.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion },
      body: captured.body,
    });
    assertRefused(replayed, 401, 'ASSERTION_REPLAYED');
  });

  it('each gateway wrote its own access-log chain, holding exactly the requests it answered, and every chain verifies', async () => {
    // A final checkpoint on each chain, as a gateway writes when it stops.
    for (const { close } of gateways) {
      await close.gateway();
      await close.accessLog();
    }
    const store = await connectAccessLogStore(federation.mongo.uri);
    try {
      const contents = await readAccessLog(store);
      const report = verifyAccessLog(contents);
      assert.deepEqual(report.problems, [], 'the access log verifies');
      const records = [...contents.records];
      for (const [index, { instance }] of gateways.entries()) {
        const chains = report.chains.filter((chain) => chain.instance === instance);
        assert.equal(chains.length, 1, `one chain for ${instance}`);
        const [chain] = chains;
        assert.ok(chain);
        const logged = records
          .filter((record) => record.chain === chain.chain && record.kind === 'ACCESS')
          .map((record) => (record.kind === 'ACCESS' ? record.requestId : ''))
          .sort();
        const served = answers
          .filter(({ gateway }) => gateway === index)
          .map(({ requestId }) => requestId)
          .sort();
        assert.deepEqual(logged, served, `${instance}'s chain holds exactly the requests it answered`);
        assert.equal(chain.unsignedTail, 0, `${instance}'s chain is signed to its end`);
        assert.equal(chain.signedThrough, chain.records - 1);
      }
      const otherChains = new Set(report.chains.map(({ chain }) => chain));
      assert.equal(otherChains.size, report.chains.length, 'chains are distinct');
    } finally {
      await store.close();
    }
  });
});
