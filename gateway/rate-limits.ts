/**
 * Rate limits and quotas per consumer, shared by every gateway instance through Redis: a
 * per-minute rate and a per-day quota (fixed windows), from the consumer's `limits:` in the
 * policy or the gateway's defaults. A request over either is answered HTTP 429 with
 * `Retry-After` and `RATE_LIMITED` or `QUOTA_EXCEEDED`, before any parsing or department call.
 *
 * Both windows are counted by one Lua script, so a request costs one Redis round trip and the
 * two counts move together atomically. The day is counted only for requests the minute lets
 * through, so a consumer refused for its rate does not use up its quota.
 *
 * While Redis is unreachable, each instance counts alone in memory with the same limits and
 * windows: consumers keep being served and limited, at most once per instance, rather than the
 * gateway refusing everyone or limiting no one. The switch both ways is logged. The connection
 * used here never queues commands, so a Redis outage costs no wait.
 */
import type { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { codedError, ErrorCode } from '../lib/error-registry.ts';
import type { Logger } from '../lib/logger.ts';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import type { Consumer } from '../lib/policy/decision/model.ts';
import type { Limits } from './operation-limits.ts';
import { rateLimitHeaders, type RateLimitState, type WindowCount } from './rate-limit-headers.ts';

export interface RateLimits {
  /**
   * Counts one request of the consumer and returns what is left of each window (for the
   * RateLimit headers); throws the 429 error, with the same headers, when it is over its rate or quota.
   */
  consume(consumer: Consumer, limits: Limits): Promise<RateLimitState>;
  close(): void;
}

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Which window refused a request (none: served) and how long until that window ends. */
interface Count {
  refusedBy: 'none' | 'minute' | 'day';
  msBeforeNext: number;
  /** The windows as counted (the day is not counted for a request the minute refuses). */
  minute: WindowCount;
  day?: WindowCount;
}

/**
 * KEYS: the minute and day counters; ARGV: the rate, the minute in ms, the quota, the day in ms.
 * Returns {0 served | 1 over the rate | 2 over the quota, ms until the refusing window ends,
 * then each window counted: its count and ms until it ends}.
 * A counter without an expiry (never expected) is given one, so no count outlives its window.
 */
const COUNT_SCRIPT = `
local function count(key, ms)
  local consumed = redis.call('incr', key)
  local ttl = redis.call('pttl', key)
  if ttl < 0 then
    redis.call('pexpire', key, ms)
    ttl = tonumber(ms)
  end
  return consumed, ttl
end
local minute, minuteTtl = count(KEYS[1], ARGV[2])
if minute > tonumber(ARGV[1]) then return {1, minuteTtl, minute, minuteTtl} end
local day, dayTtl = count(KEYS[2], ARGV[4])
if day > tonumber(ARGV[3]) then return {2, dayTtl, minute, minuteTtl, day, dayTtl} end
return {0, 0, minute, minuteTtl, day, dayTtl}
`;

type CountingRedis = Redis & {
  credenceRateCount(
    minuteKey: string,
    dayKey: string,
    rate: number,
    minuteMs: number,
    quota: number,
    dayMs: number,
  ): Promise<number[]>;
};

const REFUSED_BY = ['none', 'minute', 'day'] as const;

/** The same windows counted in this process alone: the fallback while Redis is unreachable. */
function memoryCounter(): (minuteKey: string, dayKey: string, limits: Limits) => Count {
  const windows = new Map<string, { consumed: number; endsAt: number }>();
  const count = (key: string, ms: number, now: number): { consumed: number; msBeforeNext: number } => {
    let window = windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { consumed: 0, endsAt: now + ms };
      windows.set(key, window);
    }
    window.consumed += 1;
    return { consumed: window.consumed, msBeforeNext: window.endsAt - now };
  };
  return (minuteKey, dayKey, limits) => {
    const now = Date.now();
    const minute = count(minuteKey, MINUTE_MS, now);
    if (minute.consumed > limits.requestsPerMinute)
      return { refusedBy: 'minute', msBeforeNext: minute.msBeforeNext, minute };
    const day = count(dayKey, DAY_MS, now);
    if (day.consumed > limits.requestsPerDay) return { refusedBy: 'day', msBeforeNext: day.msBeforeNext, minute, day };
    return { refusedBy: 'none', msBeforeNext: 0, minute, day };
  };
}

export function rateLimitError(
  code: typeof ErrorCode.RATE_LIMITED | typeof ErrorCode.QUOTA_EXCEEDED,
  msBeforeNext: number,
  state?: RateLimitState,
): GraphQLError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return codedError(
    code,
    undefined,
    { retryAfterSeconds: seconds },
    { headers: { 'retry-after': String(seconds), ...(state ? rateLimitHeaders(state) : {}) } },
  );
}

/**
 * A consumer's two counters. The consumer's id is the keys' hash tag, so that under Redis
 * Cluster both are in one slot, as a script that touches both needs.
 */
export function rateKeys(namespace: string, consumerId: string): { minute: string; day: string } {
  return { minute: `${namespace}:rate:{${consumerId}}:minute`, day: `${namespace}:rate:{${consumerId}}:day` };
}

export function createRateLimits(options: { sharedStore: SharedStore; namespace: string; log: Logger }): RateLimits {
  const { log } = options;
  const redis = options.sharedStore.redis?.duplicate({
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  }) as CountingRedis | undefined;
  if (redis) {
    redis.defineCommand('credenceRateCount', { numberOfKeys: 2, lua: COUNT_SCRIPT });
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
  const countInMemory = memoryCounter();

  const count = async (minuteKey: string, dayKey: string, limits: Limits): Promise<Count> => {
    if (redis?.status === 'ready') {
      try {
        const [refusedBy = 0, msBeforeNext = 0, minute = 0, minuteMs = 0, day, dayMs] = await redis.credenceRateCount(
          minuteKey,
          dayKey,
          limits.requestsPerMinute,
          MINUTE_MS,
          limits.requestsPerDay,
          DAY_MS,
        );
        return {
          refusedBy: REFUSED_BY[refusedBy] ?? 'none',
          msBeforeNext,
          minute: { consumed: minute, msBeforeNext: minuteMs },
          ...(day !== undefined && dayMs !== undefined ? { day: { consumed: day, msBeforeNext: dayMs } } : {}),
        };
      } catch {
        // Lost mid-request: this request is counted in memory, like those while Redis is down.
      }
    }
    return countInMemory(minuteKey, dayKey, limits);
  };

  return {
    consume: async (consumer, limits) => {
      const keys = rateKeys(options.namespace, consumer.id);
      const counted = await count(keys.minute, keys.day, limits);
      const state: RateLimitState = {
        windows: [
          { name: 'minute', quota: limits.requestsPerMinute, windowSeconds: MINUTE_MS / 1000, counted: counted.minute },
          {
            name: 'day',
            quota: limits.requestsPerDay,
            windowSeconds: DAY_MS / 1000,
            ...(counted.day ? { counted: counted.day } : {}),
          },
        ],
      };
      if (counted.refusedBy === 'minute') throw rateLimitError(ErrorCode.RATE_LIMITED, counted.msBeforeNext, state);
      if (counted.refusedBy === 'day') throw rateLimitError(ErrorCode.QUOTA_EXCEEDED, counted.msBeforeNext, state);
      return state;
    },
    close: () => redis?.disconnect(),
  };
}
