/**
 * The access-log writer's phases (lib/access-log/writer.ts), on a real store: writable, broken
 * after a failed write (requests refused fast, then the store tried again), and closed (nothing
 * more accepted, what was waiting still written). Through the gateway, the same writer is tested
 * in access-log.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../lib/logger.ts';
import { startMongo, type MongoServer } from '../lib/stores/mongo.ts';
import { connectAccessLogStore, type AccessLogCollections } from '../lib/access-log/store.ts';
import { loadCheckpointSigner } from '../lib/access-log/keys.ts';
import { AccessLogUnavailableError, openAccessLogWriter } from '../lib/access-log/writer.ts';
import type { AccessEntry } from '../lib/access-log/record.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const log = createLogger('test');

const entry = (requestId: string): AccessEntry => ({
  at: new Date(),
  requestId,
  consumer: 'central-bank',
  purpose: 'CREDIT_ASSESSMENT',
  policyVersion: 'test',
  operationName: null,
  operationHash: '0'.repeat(64),
  outcome: 'ANSWERED',
  fields: ['Subject.name'],
  subjects: [],
  deniedFields: [],
  maskedFields: [],
  durationMs: 1,
});

describe("the access-log writer's phases", () => {
  let mongo: MongoServer;
  let dataDir: string;
  let proxy: TcpProxy;
  let store: AccessLogCollections;

  before(async () => {
    process.env.LOG_LEVEL = 'silent';
    process.env.MONGODB_DB_PREFIX = `credence_writer_${process.pid}_`;
    dataDir = await mkdtemp(join(tmpdir(), 'credence-writer-'));
    mongo = await startMongo({ dataDir, log });
    const target = new URL(mongo.uri.replace(/^mongodb:/, 'http:'));
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    store = await connectAccessLogStore(proxy.through(mongo.uri), { serverSelectionTimeoutMs: 500 });
  });
  after(async () => {
    await proxy?.restore();
    await store?.connection.dropDatabase();
    await store?.close();
    await proxy?.close();
    await mongo?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const storedIds = async (chain: string): Promise<string[]> =>
    (await store.records.find({ chain, kind: 'ACCESS' }).sort({ seq: 1 }).toArray()).map((record) =>
      record.kind === 'ACCESS' ? record.requestId : '',
    );

  it('closed: refuses new records, and still writes those already waiting, in order', async () => {
    const writer = await openAccessLogWriter({ store, signer: loadCheckpointSigner({}), instance: 'test-close', log });
    const waiting = ['w1', 'w2', 'w3'].map((id) => writer.append(entry(id)));
    const closed = writer.close();
    await assert.rejects(writer.append(entry('late')), AccessLogUnavailableError);
    await Promise.all(waiting);
    await closed;
    assert.deepEqual(await storedIds(writer.chain), ['w1', 'w2', 'w3']);
    await assert.rejects(writer.append(entry('later')), AccessLogUnavailableError);
  });

  it('broken: refuses while the store is unreachable, writes again once it returns, and closed stays closed', async () => {
    const writer = await openAccessLogWriter({
      store,
      signer: loadCheckpointSigner({}),
      instance: 'test-broken',
      log,
      writeTimeoutMs: 300,
      retryAfterMs: 50,
    });
    await writer.append(entry('before'));
    await proxy.cut();
    await assert.rejects(writer.append(entry('while-cut')), AccessLogUnavailableError);
    await proxy.restore();
    // Tried again after retryAfterMs: the chain continues from what the store holds.
    let written = false;
    for (let attempt = 0; attempt < 50 && !written; attempt++) {
      written = await writer.append(entry(`after-${attempt}`)).then(
        () => true,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return false;
        },
      );
    }
    assert.ok(written, 'the writer writes again once the store is back');
    await writer.close();
    await assert.rejects(writer.append(entry('after-close')), AccessLogUnavailableError);
    const ids = await storedIds(writer.chain);
    assert.equal(ids[0], 'before');
    assert.ok(ids.at(-1)?.startsWith('after-'));
    assert.ok(!ids.includes('after-close'));
  });
});
