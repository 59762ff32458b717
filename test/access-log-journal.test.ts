/**
 * The access log's write-ahead journal (lib/access-log/journal.ts, and the writer's journal mode
 * in writer.ts), on a real store and real files: an answer waits for the journal, the store gets
 * the records in batches, an outage is ridden out until the lag bound and then refused, a crash
 * is replayed by the instance's next start, and a position taken in the store by a record the
 * gateway did not write is taken back. Every chain must then verify.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../lib/logger.ts';
import { connectAccessLogStore, type AccessLogCollections } from '../lib/access-log/store.ts';
import { loadCheckpointSigner } from '../lib/access-log/keys.ts';
import { leftoverJournals } from '../lib/access-log/journal.ts';
import { readAccessLog } from '../lib/access-log/maintenance.ts';
import { verifyAccessLog } from '../lib/access-log/verify.ts';
import {
  AccessLogUnavailableError,
  openAccessLogWriter,
  type AccessLogWriterOptions,
} from '../lib/access-log/writer.ts';
import { recordId, type AccessLogRecord } from '../lib/access-log/record.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { startFederation, type Caller, type Federation, type GraphQLResponse } from './support/federation.ts';
import type { TcpProxy } from './support/tcp-proxy.ts';
import { accessEntry, startProxiedAccessLogStore, type ProxiedAccessLogStore } from './support/access-log-store.ts';

const log = createLogger('test');

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('the access-log journal', () => {
  let logStore: ProxiedAccessLogStore;
  let dataDir: string;
  let proxy: TcpProxy;
  let store: AccessLogCollections;

  before(async () => {
    logStore = await startProxiedAccessLogStore('credence-journal', log);
    ({ dataDir, proxy, store } = logStore);
  });
  after(() => logStore?.close());

  const journaled = (instance: string, options: Partial<AccessLogWriterOptions> = {}) =>
    openAccessLogWriter({
      store,
      signer: loadCheckpointSigner({}),
      instance,
      log,
      journalDir: join(dataDir, instance),
      shipIntervalMs: 20,
      ...options,
    });
  const storedIds = async (chain: string): Promise<string[]> =>
    (await store.records.find({ chain, kind: 'ACCESS' }).sort({ seq: 1 }).toArray()).map((record) =>
      record.kind === 'ACCESS' ? record.requestId : '',
    );
  const problems = async (): Promise<string[]> =>
    verifyAccessLog(await readAccessLog(store)).problems.map(({ kind, chain, seq }) => `${kind} ${chain} ${seq}`);

  it('an answer waits for the journal only; the store gets the records in order, in batches, and the chain verifies', async () => {
    const writer = await journaled('journal-ship', { shipIntervalMs: 200 });
    const ids = Array.from({ length: 40 }, (_, n) => `r${n}`);
    await Promise.all(ids.map((id) => writer.append(accessEntry(id))));
    // Durable before the store has them: in the journal, on disk.
    const [onDisk] = (await leftoverJournals(join(dataDir, 'journal-ship'), 'journal-ship')).filter(
      ({ chain }) => chain === writer.chain,
    );
    assert.deepEqual(
      onDisk?.records.map((record) => (record.kind === 'ACCESS' ? record.requestId : record.kind)),
      ids,
    );
    assert.ok((writer.unshipped ?? 0) > 0, 'not shipped yet: the ship interval has not passed');
    await until('every record in the store', async () => (await storedIds(writer.chain)).length === ids.length);
    assert.deepEqual(await storedIds(writer.chain), ids);
    assert.equal(writer.unshipped, 0);
    await writer.close();
    assert.deepEqual(await readdir(join(dataDir, 'journal-ship')), [], 'shipped and closed: the journal is removed');
    assert.deepEqual(await problems(), []);
  });

  it('the store cut: answers go on from the journal until the lag bound, then are refused; the backlog arrives when the store returns', async () => {
    const writer = await journaled('journal-outage', { maxLagMs: 800, writeTimeoutMs: 300, retryAfterMs: 50 });
    await writer.append(accessEntry('before'));
    await until('the first record in the store', async () => (await storedIds(writer.chain)).length === 1);
    await proxy.cut();
    const answered = ['before'];
    try {
      await writer.append(accessEntry('during-1'));
      answered.push('during-1');
      assert.equal(writer.writable, true, 'within the lag bound');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await assert.rejects(writer.append(accessEntry('too-late')), AccessLogUnavailableError);
      assert.equal(writer.writable, false, 'not ready while the store lags too far behind');
    } finally {
      await proxy.restore();
    }
    await until('the backlog shipped', async () => writer.unshipped === 0 && writer.writable === true, 20_000);
    await writer.append(accessEntry('after'));
    answered.push('after');
    await writer.close();
    assert.deepEqual(await storedIds(writer.chain), answered, 'every answered record, in order, none refused');
    assert.deepEqual(await problems(), []);
  });

  it('a crash: the next start of the instance sends what the journal held, and its chain names the real end', async () => {
    const instance = 'journal-crash';
    // The crashed process: its records journaled, never shipped (its store connection is gone).
    const doomedStore = await connectAccessLogStore(logStore.uri);
    const crashed = await openAccessLogWriter({
      store: doomedStore,
      signer: loadCheckpointSigner({}),
      instance,
      log,
      journalDir: join(dataDir, instance),
      shipIntervalMs: 600_000,
    });
    for (const id of ['c1', 'c2', 'c3']) await crashed.append(accessEntry(id));
    await doomedStore.close();
    assert.deepEqual(await storedIds(crashed.chain), [], 'nothing shipped before the crash');

    const next = await journaled(instance);
    assert.deepEqual(await storedIds(crashed.chain), ['c1', 'c2', 'c3'], 'replayed into the store');
    const start = await store.records.findOne({ chain: next.chain, seq: 0 });
    assert.ok(start?.kind === 'CHAIN_START');
    assert.deepEqual({ chain: start.previous?.chain, seq: start.previous?.seq }, { chain: crashed.chain, seq: 3 });
    const left = (await readdir(join(dataDir, instance))).filter((name) =>
      name.startsWith(encodeURIComponent(crashed.chain)),
    );
    assert.deepEqual(left, [], "the crashed chain's journal is removed once in the store");
    await next.close();
    assert.deepEqual(await problems(), []);
  });

  it('a position taken in the store by a record the gateway did not write: the journaled record takes it back', async () => {
    const writer = await journaled('journal-forged', { shipIntervalMs: 300 });
    await writer.append(accessEntry('genuine'));
    // Before it ships, an attacker with write access to the store fills position 1.
    const forged = {
      ...accessEntry('forged'),
      kind: 'ACCESS',
      _id: recordId(writer.chain, 1),
      chain: writer.chain,
      seq: 1,
      instance: writer.instance,
      prev: '0'.repeat(64),
      hash: 'f'.repeat(64),
    } as AccessLogRecord;
    await store.records.insertOne(forged);
    await until('the genuine record shipped', async () => writer.unshipped === 0);
    assert.deepEqual(await storedIds(writer.chain), ['genuine']);
    await writer.close();
    assert.deepEqual(await problems(), []);
  });

  it("one instance's journal, one process: refused while another live process holds it, taken over from a dead one", async () => {
    const instance = 'journal-lock';
    const dir = join(dataDir, instance);
    await mkdir(dir, { recursive: true });
    const lock = join(dir, `${encodeURIComponent(instance)}.lock`);
    const other = spawn('sleep', ['30']);
    try {
      await writeFile(lock, `${other.pid}\n`);
      await assert.rejects(
        journaled(instance),
        /in use by process \d+: give each gateway process its own CREDENCE_GATEWAY_INSTANCE/,
      );
    } finally {
      other.kill();
    }
    await once(other, 'exit');
    // Its process gone, the lock is stale: the next start takes the journal over.
    const writer = await journaled(instance);
    assert.equal((await readFile(lock, 'utf8')).trim(), String(process.pid));
    await writer.close();
    await assert.rejects(readFile(lock), /ENOENT/, 'released on close');
  });

  it('reading a journal back: a torn last line (a crash inside a write) is dropped; damage elsewhere is named', async () => {
    const dir = join(dataDir, 'journal-files');
    const chain = 'journal-files/2026-12-07T00:00:00.000Z/abcdef';
    const line = (seq: number): string => JSON.stringify({ _id: recordId(chain, seq), chain, seq, at: new Date(0) });
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${encodeURIComponent(chain)}.0.jsonl`), `${line(1)}\n${line(2)}\n{"_id":"tor`);
    const [leftover] = await leftoverJournals(dir, 'journal-files');
    assert.deepEqual(
      leftover?.records.map(({ seq }) => seq),
      [1, 2],
    );
    assert.ok(leftover?.records[0]?.at instanceof Date, 'dates read back as dates (they are hashed as such)');
    await writeFile(join(dir, `${encodeURIComponent(chain)}.0.jsonl`), `${line(1)}\nnot json\n${line(3)}\n`);
    await assert.rejects(leftoverJournals(dir, 'journal-files'), /\.0\.jsonl line 2 is not a record/);
    // Another instance's journal is not this one's to replay.
    assert.deepEqual(await leftoverJournals(dir, 'journal'), []);
  });
});

describe('the access-log journal, through the gateway', () => {
  let federation: Federation;
  let store: AccessLogCollections;
  let journalDir: string;

  before(async () => {
    journalDir = await mkdtemp(join(tmpdir(), 'credence-gateway-journal-'));
    federation = await startFederation({
      subjects: 10,
      accessLogThroughProxy: true,
      accessLog: { journalDir, shipIntervalMs: 50, maxLagMs: 1500, writeTimeoutMs: 500 },
    });
    store = await connectAccessLogStore(federation.mongo.uri);
  });
  after(async () => {
    await store?.close();
    await federation?.close();
    await rm(journalDir, { recursive: true, force: true });
  });

  const requestIdOf = (response: GraphQLResponse): string =>
    (response.body as { extensions?: { credence?: { requestId?: string } } }).extensions?.credence?.requestId ?? '';
  const stored = async (requestIds: string[]): Promise<AccessLogRecord[]> =>
    store.records.find({ requestId: { $in: requestIds } }).toArray();

  it('answers from the journal through a store outage, refuses past the lag bound, and every answer reaches the store', async () => {
    const caller: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
    const uscc = seedSubject(3).uscc;
    const query = `{ subject(uscc: "${uscc}") { uscc name } }`;
    const answered: string[] = [];
    const first = await federation.query(query, undefined, caller);
    assert.equal(first.status, 200);
    answered.push(requestIdOf(first));

    const proxy = federation.accessLogProxy;
    assert.ok(proxy);
    await proxy.cut();
    try {
      const during = await federation.query(query, undefined, caller);
      assert.equal(during.status, 200, 'within the lag bound: answered, its record journaled');
      answered.push(requestIdOf(during));
      await new Promise((resolve) => setTimeout(resolve, 1800));
      const refused = await federation.query(query, undefined, caller);
      assert.equal(refused.status, 503);
      assert.equal(refused.body.errors?.[0]?.extensions?.code, 'ACCESS_LOG_UNAVAILABLE');
      assert.equal(refused.body.data, undefined, 'no data past the lag bound');
      const ready = await fetch(`${federation.gateway.url}/readyz`);
      assert.equal(ready.status, 503);
    } finally {
      await proxy.restore();
    }
    await until(
      'the gateway answers again',
      async () => (await federation.query(query, undefined, caller)).status === 200,
      30_000,
    );
    const records = await stored(answered);
    assert.deepEqual(
      records.map((record) => (record.kind === 'ACCESS' ? record.requestId : '')).sort(),
      [...answered].sort(),
    );
    for (const record of records)
      assert.ok(record.kind === 'ACCESS' && record.subjects.includes(uscc), 'its subject named');
    assert.deepEqual(verifyAccessLog(await readAccessLog(store)).problems, []);
  });
});
