/**
 * The access-log writer's phases (lib/access-log/writer.ts), on a real store: writable, broken
 * after a failed write (requests refused fast, then the store tried again), and closed (nothing
 * more accepted, what was waiting still written). Through the gateway, the same writer is tested
 * in access-log.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../lib/logger.ts';
import type { AccessLogCollections } from '../lib/access-log/store.ts';
import { loadCheckpointSigner } from '../lib/access-log/keys.ts';
import { AccessLogUnavailableError, openAccessLogWriter } from '../lib/access-log/writer.ts';
import type { TcpProxy } from './support/tcp-proxy.ts';
import { accessEntry, startProxiedAccessLogStore, type ProxiedAccessLogStore } from './support/access-log-store.ts';

const log = createLogger('test');

describe("the access-log writer's phases", () => {
  let logStore: ProxiedAccessLogStore;
  let proxy: TcpProxy;
  let store: AccessLogCollections;

  before(async () => {
    logStore = await startProxiedAccessLogStore('credence-writer', log);
    ({ proxy, store } = logStore);
  });
  after(() => logStore?.close());

  const storedIds = async (chain: string): Promise<string[]> =>
    (await store.records.find({ chain, kind: 'ACCESS' }).sort({ seq: 1 }).toArray()).map((record) =>
      record.kind === 'ACCESS' ? record.requestId : '',
    );

  it('closed: refuses new records, and still writes those already waiting, in order', async () => {
    const writer = await openAccessLogWriter({ store, signer: loadCheckpointSigner({}), instance: 'test-close', log });
    const waiting = ['w1', 'w2', 'w3'].map((id) => writer.append(accessEntry(id)));
    const closed = writer.close();
    await assert.rejects(writer.append(accessEntry('late')), AccessLogUnavailableError);
    await Promise.all(waiting);
    await closed;
    assert.deepEqual(await storedIds(writer.chain), ['w1', 'w2', 'w3']);
    await assert.rejects(writer.append(accessEntry('later')), AccessLogUnavailableError);
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
    await writer.append(accessEntry('before'));
    await proxy.cut();
    await assert.rejects(writer.append(accessEntry('while-cut')), AccessLogUnavailableError);
    await proxy.restore();
    // Tried again after retryAfterMs: the chain continues from what the store holds.
    let written = false;
    for (let attempt = 0; attempt < 50 && !written; attempt++) {
      written = await writer.append(accessEntry(`after-${attempt}`)).then(
        () => true,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return false;
        },
      );
    }
    assert.ok(written, 'the writer writes again once the store is back');
    await writer.close();
    await assert.rejects(writer.append(accessEntry('after-close')), AccessLogUnavailableError);
    const ids = await storedIds(writer.chain);
    assert.equal(ids[0], 'before');
    assert.ok(ids.at(-1)?.startsWith('after-'));
    assert.ok(!ids.includes('after-close'));
  });
});
