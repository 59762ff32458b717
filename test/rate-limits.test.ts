/**
 * Rate limits without servers: the minute and the day counted together, a request refused for its
 * rate not counted against its quota, Retry-After from the refusing window; in Redis (one script)
 * and in memory (no Redis) alike. Sharing between instances and the switch while Redis is down
 * are in faults.test.ts.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import { createLogger } from '../lib/logger.ts';
import type { Consumer } from '../lib/policy/decision/model.ts';
import { connectSharedStore, createMemoryStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { DEFAULT_CONSUMER_LIMITS } from '../gateway/config.ts';
import { createRateLimits, rateKeys } from '../gateway/rate-limits.ts';

const log = createLogger('test');
const namespace = `credence-test-rate-${process.pid}`;
const consumer = (id: string): Consumer => ({
  id,
  name: id,
  purposes: [],
  mode: 'reject',
  apiKeys: [],
  jwt: [],
  anonymous: false,
});

/**
 * 'served', or the refusal's code and, `window` seconds being its window, whether Retry-After is
 * the rest of that window: at most the window, and less by no more than the seconds a loaded
 * machine may have spent since the window's first request.
 */
async function attempt(consume: () => Promise<unknown>, window?: number): Promise<string> {
  try {
    await consume();
    return 'served';
  } catch (error) {
    assert.ok(error instanceof GraphQLError, String(error));
    const seconds = Number(error.extensions.retryAfterSeconds);
    const rest =
      window !== undefined && seconds <= window && seconds > window - 30
        ? 'rest of the window'
        : `Retry-After ${seconds}`;
    return `${String(error.extensions.code)}, ${rest}`;
  }
}

for (const kind of ['redis', 'memory'] as const) {
  describe(`rate limits counted in ${kind}`, () => {
    let store: SharedStore;

    before(async () => {
      store = kind === 'memory' ? createMemoryStore() : await connectSharedStore(log);
      if (kind === 'redis' && store.kind !== 'redis') assert.fail('no Redis reachable on this machine');
    });
    after(async () => {
      const keys = await store.redis?.keys(`${namespace}:*`);
      if (keys?.length) await store.redis?.del(...keys);
      await store.close();
    });

    it('refuses the request over the rate with RATE_LIMITED until the minute ends, without using up the quota', async () => {
      const limits = createRateLimits({ sharedStore: store, namespace: `${namespace}:${kind}`, log });
      try {
        // A new connection is not ready at once (what comes before is counted in memory): wait until Redis counts.
        for (
          let tries = 0;
          store.redis && !(await store.redis.exists(rateKeys(`${namespace}:${kind}`, 'probe').minute));
          tries++
        ) {
          assert.ok(tries < 100, 'Redis never counted a request');
          await limits.consume(consumer('probe'), DEFAULT_CONSUMER_LIMITS);
          await sleep(50);
        }
        const bank = consumer('bank');
        const results: string[] = [];
        for (let i = 0; i < 4; i++)
          results.push(
            await attempt(
              () => limits.consume(bank, { ...DEFAULT_CONSUMER_LIMITS, requestsPerMinute: 2, requestsPerDay: 3 }),
              60,
            ),
          );
        assert.deepEqual(results, [
          'served',
          'served',
          'RATE_LIMITED, rest of the window',
          'RATE_LIMITED, rest of the window',
        ]);
        // Two of its three a day were used: with a higher rate, one more is served, then the quota refuses.
        const higher = { ...DEFAULT_CONSUMER_LIMITS, requestsPerMinute: 10, requestsPerDay: 3 };
        assert.equal(await attempt(() => limits.consume(bank, higher)), 'served');
        assert.equal(await attempt(() => limits.consume(bank, higher), 86_400), 'QUOTA_EXCEEDED, rest of the window');
        // Another consumer has counts of its own.
        assert.equal(await attempt(() => limits.consume(consumer('office'), higher)), 'served');
        if (store.redis) {
          assert.equal(await store.redis.get(rateKeys(`${namespace}:${kind}`, 'bank').minute), '6');
          assert.equal(await store.redis.get(rateKeys(`${namespace}:${kind}`, 'bank').day), '4');
          const ttl = await store.redis.pttl(rateKeys(`${namespace}:${kind}`, 'bank').day);
          assert.ok(ttl > 86_000_000 && ttl <= 86_400_000, `day window ${ttl} ms`);
        }
      } finally {
        limits.close();
      }
    });
  });
}
