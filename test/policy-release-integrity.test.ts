/**
 * Signed policy releases, one process at a time, against real Redis: what anyone who can write
 * to Redis or to a machine's files can no longer make a process enforce, and every way of saving
 * a file that must still go live. Each runtime here is a real one (the gateway's and the
 * departments' own code), with its security events captured from its log.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { readPolicyBundle } from '../lib/policy/loading/bundle.ts';
import {
  DEFAULT_POLICIES_DIR,
  DEFAULT_SUPERGRAPH_PATH,
  policyCompiler,
  startPolicyRuntime,
} from '../lib/policy/releases/process-policy.ts';
import { publishRelease, releaseKeys, storeRelease } from '../lib/policy/releases/release-store.ts';
import {
  releasesDirectory,
  signRelease,
  writeReleaseFile,
  type PolicyRelease,
} from '../lib/policy/releases/signed-release.ts';
import { releaseOnSave } from '../lib/policy/officers/releaser.ts';
import type { PolicyRuntime } from '../lib/policy/releases/policy-in-force.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { createLogger } from '../lib/logger.ts';
import { isPolicySource, releaseFolder, testReleaseKey } from './support/release.ts';

const ALLOW_RATINGS = `
  - id: release-test-portal-ratings
    description: Added by the release tests.
    consumers: [public-portal]
    allow: [Subject.taxCreditRatings, TaxCreditRating.*]
`;

interface SecurityEvent {
  securityEvent: string;
  reason: string;
  number?: number;
}

/** A logger whose security events the test can read. */
function capturingLogger(): { log: ReturnType<typeof createLogger>; events: SecurityEvent[] } {
  const events: SecurityEvent[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as Partial<SecurityEvent>;
        if (entry.securityEvent) events.push(entry as SecurityEvent);
      }
      done();
    },
  });
  return { log: pino({ level: 'warn' }, stream), events };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached: ${what}`);
    await sleep(25);
  }
}

const namespace = `credence-test-release-${process.pid}`;
const key = testReleaseKey();
const schema = buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
const cleanup: (() => unknown)[] = [];
/** Closes what the tests started (runtimes, watches, folders), newest first. */
async function runCleanup(): Promise<void> {
  while (cleanup.length > 0) await cleanup.pop()?.();
}

async function policiesCopy(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'credence-release-')), 'policies');
  await cp(DEFAULT_POLICIES_DIR, dir, { recursive: true, filter: isPolicySource });
  cleanup.push(() => rm(join(dir, '..'), { recursive: true, force: true }));
  return dir;
}

async function runtimeOn(
  dir: string,
  store: SharedStore,
  options: { watch?: boolean; refreshMs?: number } = {},
): Promise<{ runtime: PolicyRuntime; events: SecurityEvent[] }> {
  const { log, events } = capturingLogger();
  const runtime = await startPolicyRuntime({
    dir,
    sharedStore: store,
    log,
    watch: options.watch ?? false,
    trustedKeys: key.trusted,
    namespace,
    refreshMs: options.refreshMs ?? 200,
  });
  cleanup.push(() => runtime.close());
  return { runtime, events };
}

/** The release `runtime` would get from `dir` with `extra` appended to rules.yaml, signed as `number`. */
async function changedRelease(
  dir: string,
  number: number,
  extra = ALLOW_RATINGS,
  signWith = key,
): Promise<PolicyRelease> {
  const files = { ...(await readPolicyBundle(dir)) };
  files['rules.yaml'] = `${files['rules.yaml'] ?? ''}${extra}`;
  return signRelease({ files, number, key: signWith.key });
}

const compile = policyCompiler(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));

/** The policy version a release compiles to: the key it is published under. */
async function versionOf(release: PolicyRelease): Promise<string> {
  const result = await compile(release.files);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy.version;
}

describe('signed policy releases: what reaches a process', () => {
  let store: SharedStore;
  let dir: string;
  let runtime: PolicyRuntime;
  let events: SecurityEvent[];

  before(async () => {
    store = await connectSharedStore(createLogger('test'));
    assert.equal(store.kind, 'redis', 'these tests need the real Redis on 127.0.0.1:6379');
    dir = await policiesCopy();
    await releaseFolder(dir, releasesDirectory(dir, {}), key, 1);
    ({ runtime, events } = await runtimeOn(dir, store));
  });

  after(async () => {
    await runCleanup();
    for (const name of await store.redis!.keys(`${namespace}*`)) await store.redis!.del(name);
    await store.close();
  });

  it('a forged bundle in Redis: an unsigned bundle, or a signed one whose files were changed, is refused and logged', async () => {
    const inForce = runtime.current().version;
    const keys = releaseKeys(namespace);
    // The bundle format before releases were signed: the files alone, announced on the channel.
    const forgedFiles = (await changedRelease(dir, 99)).files;
    await store.set(keys.release('forged0000000001'), JSON.stringify(forgedFiles));
    await store.publish(keys.channel, 'forged0000000001');
    // A real release's envelope, with its files swapped for the attacker's and the number raised.
    const real = await changedRelease(dir, 2);
    const tampered = {
      ...real,
      number: 2,
      files: { ...real.files, 'rules.yaml': `${real.files['rules.yaml']}\n# changed\n` },
    };
    await store.set(keys.release('forged0000000002'), JSON.stringify(tampered));
    await store.raise(keys.latest, 1000, 'forged0000000002');
    await store.publish(keys.channel, 'forged0000000002');
    await until(
      () =>
        events.some((event) => event.reason === 'MALFORMED') &&
        events.some((event) => event.reason === 'DIGEST_MISMATCH'),
      'both forgeries logged',
    );
    assert.equal(runtime.current().version, inForce, 'the forged policy is not enforced');
    assert.equal(runtime.status().release.number, 1);
    assert.ok(events.every((event) => event.securityEvent === 'policy-release-refused'));
  });

  it('a bundle re-signed with another key is refused and logged', async () => {
    const inForce = runtime.current().version;
    const attackerKey = testReleaseKey();
    const resigned = await changedRelease(dir, 5, ALLOW_RATINGS, attackerKey);
    const keys = releaseKeys(namespace);
    await store.set(keys.release('resigned00000001'), JSON.stringify(resigned));
    await store.publish(keys.channel, 'resigned00000001');
    await until(
      () => events.some((event) => event.reason === 'UNKNOWN_KEY' && event.number === 5),
      'the re-signed release logged',
    );
    assert.equal(runtime.current().version, inForce);
  });

  it('a signed newer release goes live; an older one sent afterwards is refused and logged', async () => {
    const newer = await changedRelease(dir, 2);
    const newerVersion = await versionOf(newer);
    await publishRelease(store, namespace, newer, newerVersion, key.trusted);
    await until(() => runtime.current().version === newerVersion, 'release 2 in force');
    assert.equal(runtime.status().release.number, 2);
    assert.equal(runtime.status().release.sha256, newer.sha256);

    // Release 1 with other content (a rollback by replay of an older signature, or a race) is older than 2.
    const older = await changedRelease(dir, 1, '\n# an older release\n');
    const olderVersion = await versionOf(older);
    await store.set(releaseKeys(namespace).release(olderVersion), JSON.stringify(older));
    await store.publish(releaseKeys(namespace).channel, olderVersion);
    await until(
      () => events.some((event) => event.reason === 'OLDER' && event.number === 1),
      'the older release logged',
    );
    assert.equal(runtime.current().version, newerVersion);
  });

  it('a process started with old files enforces the newer release from the shared store, and rolls back nobody', async () => {
    const inForce = runtime.status().release;
    assert.equal(inForce.number, 2);
    const heard: string[] = [];
    await store.subscribe(releaseKeys(namespace).channel, (version) => heard.push(version));
    // Another machine, whose folder still holds release 1 only.
    const oldDir = await policiesCopy();
    await releaseFolder(oldDir, releasesDirectory(oldDir, {}), key, 1);
    const { runtime: started } = await runtimeOn(oldDir, store);
    assert.equal(started.status().release.number, 2, 'the newer release from the shared store, not the old files');
    assert.equal(started.current().version, inForce.version);
    // Whatever the new process announced while starting reaches subscribers before this marker.
    await store.publish(releaseKeys(namespace).channel, 'marker');
    await until(() => heard.includes('marker'), 'the marker heard');
    assert.deepEqual(heard, ['marker'], 'the process with old files announced nothing');
    assert.equal(
      (await store.ranked(releaseKeys(namespace).latest))?.rank,
      2,
      'the shared store still names release 2',
    );
    assert.equal(runtime.status().release.number, 2, 'the running process did not go back');
  });

  it('a release whose announcement was lost is found by the refresh', async () => {
    const next = await changedRelease(dir, 3, `${ALLOW_RATINGS}\n# release 3\n`);
    const version = await versionOf(next);
    // Stored and pointed to, never announced: as when a process's subscription was down.
    await storeRelease(store, namespace, next, version, key.trusted);
    await until(() => runtime.current().version === version, 'release 3 in force by the refresh');
  });

  it('a release file saved into a watched release folder goes live, and the others hear of it', async () => {
    const watched = await policiesCopy();
    await rm(releasesDirectory(watched, {}), { recursive: true, force: true });
    const { runtime: watching } = await runtimeOn(watched, store, { watch: true, refreshMs: 60_000 });
    const next = await changedRelease(dir, 4, `${ALLOW_RATINGS}\n# release 4\n`);
    await writeReleaseFile(releasesDirectory(watched, {}), next);
    await until(() => watching.status().release.number === 4, 'release 4 from the folder');
    await until(() => runtime.status().release.number === 4, 'release 4 announced to the others');
  });
});

describe("every way of saving a policy file goes live (npm start's releaser)", () => {
  const git = (dir: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.email=officer@example.org', '-c', 'user.name=Officer', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
  const ways: Record<string, (path: string, text: string, dir: string) => Promise<void>> = {
    'an in-place write': (path, text) => writeFile(path, text),
    'a rename over the file': async (path, text) => {
      await writeFile(`${path}.swp`, text);
      await rename(`${path}.swp`, path);
    },
    'delete then create': async (path, text) => {
      await unlink(path);
      await sleep(50);
      await writeFile(path, text);
    },
    // The change was committed on a branch beforehand (below); checking it out is the save.
    'git checkout of the folder': async (_path, _text, dir) => void git(dir, 'checkout', '-q', 'change'),
  };

  let store: SharedStore;
  before(async () => {
    store = await connectSharedStore(createLogger('test'));
  });
  after(async () => {
    await runCleanup();
    for (const name of await store.redis!.keys(`${namespace}-save-*`)) await store.redis!.del(name);
    await store.close();
  });

  for (const [way, save] of Object.entries(ways)) {
    it(`a save by ${way}, and every save after it`, async () => {
      const dir = await policiesCopy();
      const rules = join(dir, 'rules.yaml');
      const original = await readFile(rules, 'utf8');
      git(dir, 'init', '-q', '-b', 'main');
      git(dir, 'add', '.');
      git(dir, 'commit', '-qm', 'initial');
      git(dir, 'checkout', '-q', '-b', 'change');
      await writeFile(rules, original + ALLOW_RATINGS);
      git(dir, 'commit', '-qam', 'change');
      git(dir, 'checkout', '-q', 'main');
      const ns = `${namespace}-save-${way.replace(/\W+/g, '-')}`;
      const releaser = releaseOnSave({
        dir,
        readTests: async () => new Map(),
        log: createLogger('releaser'),
        schema,
        key: key.key,
        trustedKeys: key.trusted,
        releasesDir: releasesDirectory(dir, {}),
        sharedStore: store,
        namespace: ns,
      });
      cleanup.push(() => releaser.close());
      await until(() => releaseFiles(releasesDirectory(dir, {})).length === 1, 'the folder released at start');
      const { log } = capturingLogger();
      const runtime = await startPolicyRuntime({
        dir,
        sharedStore: store,
        log,
        watch: true,
        trustedKeys: key.trusted,
        namespace: ns,
        refreshMs: 60_000,
      });
      cleanup.push(() => runtime.close());

      await save(rules, original + ALLOW_RATINGS, dir);
      await until(() => runtime.status().release.number === 2, `the save by ${way} in force`);
      // The save after it, in place: what recursive fs.watch stopped reporting after a rename.
      await appendFile(rules, '\n# and a later save\n');
      await until(() => runtime.status().release.number === 3, 'the later save in force');
      await writeFile(rules, original);
      await until(() => runtime.status().release.number === 4, 'a third save in force');
    });
  }
});

function releaseFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.json')) : [];
}
