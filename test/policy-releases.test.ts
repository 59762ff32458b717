/**
 * Signed releases across processes: two gateway processes (one reaching Redis through a proxy
 * the test can cut) in front of the departments, all on one Redis. A signed release goes live on
 * every one of them; a forged or an older one on none, each gateway logging a security event;
 * every process reports the release it enforces, and a process cut off from updates is reported
 * stale until it catches up.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ASSERTION_ENV } from '../lib/identity/assertion.ts';
import { createLogger } from '../lib/logger.ts';
import { DEFAULT_SUPERGRAPH_PATH, policyCompiler, redisNamespace } from '../lib/policy/releases/process-policy.ts';
import { readPolicyBundle } from '../lib/policy/loading/bundle.ts';
import { publishRelease, readFleet } from '../lib/policy/releases/release-store.ts';
import { RELEASE_ENV, signRelease } from '../lib/policy/releases/signed-release.ts';
import type { PolicyStatus } from '../lib/policy/releases/policy-in-force.ts';
import { stopChild } from '../lib/stores/ferretdb.ts';
import { freePort } from '../lib/stores/net.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { readFileSync } from 'node:fs';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { startFederation, type Federation } from './support/federation.ts';
import { addPurposeSeeingEverything, publishPolicyChange } from './support/policy-change.ts';
import { testReleaseKey } from './support/release.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const PORTAL = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
const uscc = seedSubject(0).uscc;
const QUERY = `{ subject(uscc: "${uscc}") { name taxCreditRatings { year rating } } }`;

interface Answer {
  data?: { subject?: { name?: string | null; taxCreditRatings?: unknown[] | null } | null } | null;
  errors?: { extensions?: { code?: string } }[];
  extensions?: { credence?: { policyVersion?: string } };
}

interface GatewayProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Security events the process logged (its log is JSON lines on stderr). */
  securityEvents: { reason: string; number?: number }[];
}

const ALLOW_RATINGS = `
  - id: release-test-portal-ratings
    description: Added by the release test.
    consumers: [public-portal]
    allow: [Subject.taxCreditRatings, TaxCreditRating.*]
`;

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not reached: ${what}`);
    await sleep(25);
  }
}

describe('signed policy releases across two gateway processes and the departments', () => {
  let federation: Federation;
  let store: SharedStore;
  let redisProxy: TcpProxy;
  const gateways: GatewayProcess[] = [];

  async function ask(gateway: GatewayProcess): Promise<Answer> {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': federation.apiKeys.get(PORTAL.consumer) ?? '',
        'x-credence-purpose': PORTAL.purpose,
      },
      body: JSON.stringify({ query: QUERY }),
    });
    return (await response.json()) as Answer;
  }

  async function status(url: string): Promise<PolicyStatus> {
    const response = await fetch(new URL('/status', url));
    assert.equal(response.status, 200);
    return ((await response.json()) as { policy: PolicyStatus }).policy;
  }

  before(async () => {
    // What the portal is denied under its own purpose exists for it under a second one, so it is
    // answered null with FORBIDDEN (filter mode) rather than failing validation as unknown.
    federation = await startFederation({
      subjects: 5,
      preparePolicies: (dir) => addPurposeSeeingEverything(dir, ['public-portal']),
    });
    store = await connectSharedStore(createLogger('test'));
    redisProxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    const subgraphUrls = [...federation.subgraphs]
      .map(([name, subgraph]) => `${name}=${subgraph.graphqlUrl}`)
      .join(',');
    for (const name of ['gateway-a', 'gateway-b-through-proxy']) {
      const port = await freePort();
      const child = spawn(process.execPath, ['gateway/main.ts'], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          GATEWAY_PORT: String(port),
          SUBGRAPH_URLS: subgraphUrls,
          POLICIES_DIR: federation.policiesDir,
          MONGODB_URI: federation.mongo.uri,
          CREDENCE_GATEWAY_INSTANCE: `${name}-${process.pid}`,
          [ASSERTION_ENV.PRIVATE_KEY]: federation.assertionKeys.privateKeyPem,
          [RELEASE_ENV.PUBLIC_KEYS]: federation.releaseKeys.publicKeyPem,
          ...(name.endsWith('proxy') ? { REDIS_URL: redisProxy.through('redis://127.0.0.1:6379/') } : {}),
        },
      });
      const gateway: GatewayProcess = { name, url: `http://127.0.0.1:${port}/graphql`, child, securityEvents: [] };
      let partial = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const entry = JSON.parse(line) as { securityEvent?: string; reason: string; number?: number };
          if (entry.securityEvent) gateway.securityEvents.push(entry);
        }
      });
      gateways.push(gateway);
    }
    for (const gateway of gateways)
      await until(
        async () => (typeof (await ask(gateway)).data?.subject?.name === 'string' ? true : undefined),
        `${gateway.name} answering`,
      );
  });

  after(async () => {
    await Promise.all(gateways.map(({ child }) => stopChild(child)));
    await redisProxy.close();
    await store.close();
    await federation.close();
  });

  it('a signed release goes live on both gateways and the departments, each naming it on /status', async (t) => {
    const before = await Promise.all(gateways.map(ask));
    for (const answer of before)
      assert.equal(answer.errors?.[0]?.extensions?.code, 'FORBIDDEN', 'ratings denied before the release');
    const first = await Promise.all(gateways.map((gateway) => status(gateway.url)));
    assert.deepEqual(
      first.map((entry) => entry.release.number),
      [1, 1],
    );

    await appendFile(join(federation.policiesDir, 'rules.yaml'), ALLOW_RATINGS);
    const started = Date.now();
    const version = await publishPolicyChange(federation, federation.policiesDir, 30_000);
    for (const gateway of gateways) {
      await until(
        async () => (Array.isArray((await ask(gateway)).data?.subject?.taxCreditRatings) ? true : undefined),
        `${gateway.name} under release 2`,
      );
    }
    // Timing is a benchmark's business; the figure is reported, not asserted.
    t.diagnostic(`release 2 live on both gateways and the departments ${Date.now() - started} ms after it was signed`);
    for (const gateway of gateways) {
      const answer = await ask(gateway);
      assert.equal(answer.extensions?.credence?.policyVersion, version);
      const { release } = await status(gateway.url);
      assert.equal(release.number, 2);
      assert.equal(release.version, version);
      assert.match(release.sha256, /^[0-9a-f]{64}$/);
      assert.ok(Date.parse(release.since) >= started - 1000, 'in force since the release');
    }
    for (const subgraph of federation.subgraphs.values()) assert.equal((await status(subgraph.url)).release.number, 2);
  });

  it('a forged or an older release goes live on none of them, and each gateway logs a security event', async () => {
    const inForce = federation.policies.current().version;
    const compile = policyCompiler(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
    const files = { ...(await readPolicyBundle(federation.policiesDir)) };
    // Public portal sees phone numbers: what an attacker with write access to Redis wants.
    files['rules.yaml'] =
      `${files['rules.yaml']}\n  - id: forged\n    description: forged.\n    consumers: [public-portal]\n    allow: [Subject.*]\n`;
    const forged = signRelease({ files, number: 50, key: testReleaseKey().key });
    const forgedCompiled = await compile(forged.files);
    assert.ok(forgedCompiled.ok);
    // Stored, pointed to and announced exactly as a real release is.
    await publishRelease(store, redisNamespace(), forged, forgedCompiled.policy.version, new Map());
    const older = signRelease({
      files: { ...files, 'rules.yaml': `${files['rules.yaml']}\n# older\n` },
      number: 1,
      key: federation.releaseKeys.key,
    });
    const olderCompiled = await compile(older.files);
    assert.ok(olderCompiled.ok);
    await publishRelease(store, redisNamespace(), older, olderCompiled.policy.version, federation.releaseKeys.trusted);

    for (const gateway of gateways) {
      await until(
        async () =>
          gateway.securityEvents.some((event) => event.reason === 'UNKNOWN_KEY' && event.number === 50)
            ? true
            : undefined,
        `${gateway.name} logs the forged release`,
      );
      await until(
        async () =>
          gateway.securityEvents.some((event) => event.reason === 'OLDER' && event.number === 1) ? true : undefined,
        `${gateway.name} logs the older release`,
      );
    }
    for (const gateway of gateways) {
      const answer = await ask(gateway);
      assert.equal(answer.extensions?.credence?.policyVersion, inForce);
      assert.equal((await status(gateway.url)).release.number, 2);
    }
    assert.equal(federation.policies.current().version, inForce, 'the departments did not switch');
    assert.equal(federation.policies.status().release.number, 2);
  });

  it('a process cut off from updates is reported stale, and catches up once it is back', async () => {
    const [reachable, cutOff] = gateways as [GatewayProcess, GatewayProcess];
    const previous = (await status(cutOff.url)).release.number;
    const next = previous + 1;
    await redisProxy.cut();
    // Released from an officer's copy of the folder: the gateways' own folder does not change,
    // so Redis is the only way the release can reach them.
    const workstation = join(await mkdtemp(join(tmpdir(), 'credence-officer-')), 'policies');
    await cp(federation.policiesDir, workstation, { recursive: true });
    const rules = join(workstation, 'rules.yaml');
    await writeFile(rules, `${await readFile(rules, 'utf8')}\n# release ${next}\n`);
    await publishPolicyChange(federation, workstation, 30_000);
    await rm(join(workstation, '..'), { recursive: true, force: true });
    await until(
      async () => ((await status(reachable.url)).release.number === next ? true : undefined),
      'the reachable gateway under the new release',
    );
    assert.equal(
      (await status(cutOff.url)).release.number,
      previous,
      'the cut-off gateway still enforces the release before',
    );

    const fleet = await until(async () => {
      const now = await readFleet(store, redisNamespace());
      const entry = now.processes.find((entry) => entry.instance === `${cutOff.name}-${process.pid}`);
      return entry?.stale ? now : undefined;
    }, 'the cut-off gateway reported stale');
    assert.equal(fleet.newest, next);
    const byInstance = new Map(fleet.processes.map((entry) => [entry.instance, entry]));
    assert.equal(byInstance.get(`${reachable.name}-${process.pid}`)?.stale, false);
    assert.equal(byInstance.get(`${cutOff.name}-${process.pid}`)?.release.number, previous);

    await redisProxy.restore();
    await until(
      async () => ((await status(cutOff.url)).release.number === next ? true : undefined),
      'the cut-off gateway catching up',
    );
    await until(async () => {
      const entry = (await readFleet(store, redisNamespace())).processes.find(
        (entry) => entry.instance === `${cutOff.name}-${process.pid}`,
      );
      return entry && entry.stale === false ? true : undefined;
    }, 'no longer stale');
  });
});
