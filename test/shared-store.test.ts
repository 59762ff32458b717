/** The shared store: real Redis when there is one, an announced in-memory fallback when not. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { freePort } from '../lib/stores/net.ts';

function capturingLogger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString()), done()),
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('shared store', () => {
  it('uses the local Redis: values expire and messages reach a second instance', async () => {
    const { log } = capturingLogger();
    const [first, second] = [await connectSharedStore(log, {}), await connectSharedStore(log, {})];
    try {
      assert.equal(first.kind, 'redis');
      const key = `credence:test:${process.pid}`;
      await first.set(key, 'v', 200);
      assert.equal(await second.get(key), 'v');
      // Expiry is Redis's: the key carries its time to live (read from Redis, no waiting for it).
      const ttl = await first.redis?.pttl(key);
      assert.ok(ttl !== undefined && ttl > 0 && ttl <= 200, `time to live ${ttl} ms`);

      let receive: (message: string) => void = () => {};
      const received = new Promise<string>((resolve) => {
        receive = resolve;
      });
      // Resolves once Redis has confirmed the subscription: the message cannot be sent before it.
      await second.subscribe(`${key}:channel`, (message) => receive(message));
      await first.publish(`${key}:channel`, 'policy changed');
      assert.equal(await received, 'policy changed');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('falls back to memory, and says so in the log, when no Redis answers and none is configured', async () => {
    const { log, lines } = capturingLogger();
    const store = await connectSharedStore(log, { defaultUrl: `redis://127.0.0.1:${await freePort()}` });
    try {
      assert.equal(store.kind, 'memory');
      assert.ok(lines.some((line) => line.includes('in-memory shared store')));
      await store.set('k', 'v');
      assert.equal(await store.get('k'), 'v');
    } finally {
      await store.close();
    }
  });

  it('refuses to start when a configured REDIS_URL does not answer', async () => {
    const { log } = capturingLogger();
    await assert.rejects(
      connectSharedStore(log, { url: `redis://127.0.0.1:${await freePort()}` }),
      /REDIS_URL is set but Redis cannot be reached/,
    );
  });
});
