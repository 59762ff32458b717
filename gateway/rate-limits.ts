/**
 * Rate limits and quotas per consumer, shared by every gateway instance through Redis
 * (rate-limiter-flexible): a per-minute rate and a per-day quota, from the consumer's `limits:`
 * in the policy or the gateway's defaults. A request over either is answered HTTP 429 with
 * `Retry-After` and `RATE_LIMITED` or `QUOTA_EXCEEDED`, before any parsing or department call.
 *
 * While Redis is unreachable, each instance counts alone in memory (the limiter's insurance
 * limiter, with the same limits): consumers keep being served and limited, at most once per
 * instance, rather than the gateway refusing everyone or limiting no one. The switch both ways
 * is logged. The connection used here never queues commands, so a Redis outage costs no wait.
 */
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../lib/logger.ts';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import type { Consumer } from '../lib/policy/model.ts';
import type { Limits } from './operation-limits.ts';

export interface RateLimits {
  /** Counts one request of the consumer; throws the 429 error when it is over its rate or quota. */
  consume(consumer: Consumer, limits: Limits): Promise<void>;
  close(): void;
}

interface Window {
  name: 'minute' | 'day';
  seconds: number;
  code: 'RATE_LIMITED' | 'QUOTA_EXCEEDED';
  points: (limits: Limits) => number;
}

const WINDOWS: readonly Window[] = [
  { name: 'minute', seconds: 60, code: 'RATE_LIMITED', points: (limits) => limits.requestsPerMinute },
  { name: 'day', seconds: 24 * 60 * 60, code: 'QUOTA_EXCEEDED', points: (limits) => limits.requestsPerDay },
];

export function rateLimitError(code: string, msBeforeNext: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  const message = code === 'QUOTA_EXCEEDED'
    ? `Your daily quota is used up; try again in ${seconds} s.`
    : `Too many requests; try again in ${seconds} s.`;
  return new GraphQLError(message, {
    extensions: { code, retryAfterSeconds: seconds, http: { status: 429, headers: new HeaderMap([['retry-after', String(seconds)]]) } },
  });
}

export function createRateLimits(options: { sharedStore: SharedStore; namespace: string; log: Logger }): RateLimits {
  const { log } = options;
  const redis: Redis | undefined = options.sharedStore.redis?.duplicate({ lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  if (redis) {
    let reachable = true;
    redis.on('error', () => {});
    redis.on('close', () => {
      if (reachable) log.warn('rate limits: Redis unreachable, each gateway instance now counts alone in memory');
      reachable = false;
    });
    redis.on('ready', () => {
      if (!reachable) log.info('rate limits: Redis reachable again, limits are shared by all instances');
      reachable = true;
    });
  } else {
    log.warn('rate limits: no Redis, each gateway instance counts alone in memory');
  }

  // One limiter per window and limit value: consumers with the same limits share a limiter, not counts.
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (window: Window, points: number): RateLimiterAbstract => {
    const key = `${window.name}:${points}`;
    let limiter = limiters.get(key);
    if (!limiter) {
      const settings = { points, duration: window.seconds, keyPrefix: `${options.namespace}:rate:${window.name}` };
      const memory = new RateLimiterMemory(settings);
      limiter = redis ? new RateLimiterRedis({ ...settings, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
      limiters.set(key, limiter);
    }
    return limiter;
  };

  return {
    consume: async (consumer, limits) => {
      for (const window of WINDOWS) {
        try {
          await limiterFor(window, window.points(limits)).consume(consumer.id);
        } catch (rejection) {
          if (rejection instanceof RateLimiterRes) throw rateLimitError(window.code, rejection.msBeforeNext);
          throw rejection;
        }
      }
    },
    close: () => redis?.disconnect(),
  };
}
