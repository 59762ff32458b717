/**
 * The state gateway instances share (rate limits, caches, policy-change notifications): Redis
 * through ioredis, or a single-instance in-memory fallback when no Redis can be reached.
 */
import { EventEmitter } from 'node:events';
import { sharedSettings } from '../config/shared.ts';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

export interface SharedStore {
  readonly kind: 'redis' | 'memory';
  /** The Redis connection, for a component that needs commands of its own (rate limits); a copy is made with `duplicate`. */
  readonly redis?: Redis;
  ping(): Promise<boolean>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /**
   * Sets `key` to `value` under `rank` unless it already holds a rank at least as high: a
   * pointer that only moves forward, whichever of several writers arrives last.
   */
  raise(key: string, rank: number, value: string): Promise<void>;
  /** The value `raise` stored and its rank; null if none. */
  ranked(key: string): Promise<{ rank: number; value: string } | null>;
  /** One field of a hash (a process's entry in a shared table). */
  hset(key: string, field: string, value: string): Promise<void>;
  hgetall(key: string): Promise<Record<string, string>>;
  hdel(key: string, field: string): Promise<void>;
  /** Sets `key` only if it is not set (Redis SET NX PX), for `ttlMs`: true when this call set it. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface SharedStoreOptions {
  /** A Redis that must work (REDIS_URL). */
  url?: string | undefined;
  /** The Redis tried when no URL is configured; memory if it does not answer. */
  defaultUrl?: string;
}

/** REDIS_URL if set (and then it must work); else local Redis if reachable; else memory, announced in the log. */
export async function connectSharedStore(
  log: Logger,
  options: SharedStoreOptions = { url: sharedSettings().redisUrl },
): Promise<SharedStore> {
  const configured = options.url;
  const url = configured ?? options.defaultUrl ?? DEFAULT_REDIS_URL;
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // The first connection's failure is reported below; without a listener ioredis would print it with a stack.
  const untilConnected = (): void => {};
  client.on('error', untilConnected);
  try {
    await client.connect();
    await client.ping();
    client.off('error', untilConnected);
  } catch (error) {
    client.disconnect();
    if (configured)
      throw new Error(`REDIS_URL is set but Redis cannot be reached: ${(error as Error).message}`, { cause: error });
    log.warn({ url }, 'no Redis reachable: using the in-memory shared store (single instance only)');
    return createMemoryStore();
  }
  return createRedisStore(client, log);
}

/** Compares and sets in one step: ranks are whole numbers, stored as `<rank> <value>`. */
const RAISE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current and tonumber(string.match(current, '^(%d+) ')) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])
return 1`;

function parseRanked(stored: string | null | undefined): { rank: number; value: string } | null {
  const match = stored ? /^(\d+) (.*)$/s.exec(stored) : null;
  return match ? { rank: Number(match[1]), value: match[2] ?? '' } : null;
}

function createRedisStore(client: Redis, log: Logger): SharedStore {
  let subscriber: Redis | undefined;
  // ioredis reconnects by itself; an error event without a listener would only be printed to stderr.
  const onError = (error: Error): void => log.warn({ reason: error.message }, 'Redis connection error');
  client.on('error', onError);
  const handlers = new Map<string, ((message: string) => void)[]>();
  return {
    kind: 'redis',
    redis: client,
    ping: () =>
      client.ping().then(
        (reply) => reply === 'PONG',
        () => false,
      ),
    get: (key) => client.get(key),
    set: async (key, value, ttlMs) => {
      if (ttlMs) await client.set(key, value, 'PX', ttlMs);
      else await client.set(key, value);
    },
    raise: async (key, rank, value) => void (await client.eval(RAISE_SCRIPT, 1, key, String(rank), value)),
    ranked: async (key) => parseRanked(await client.get(key)),
    hset: async (key, field, value) => void (await client.hset(key, field, value)),
    hgetall: (key) => client.hgetall(key),
    hdel: async (key, field) => void (await client.hdel(key, field)),
    claim: async (key, ttlMs) => (await client.set(key, '1', 'PX', ttlMs, 'NX')) === 'OK',
    publish: async (channel, message) => void (await client.publish(channel, message)),
    subscribe: async (channel, onMessage) => {
      if (!subscriber) {
        // A subscribed Redis connection can run no other command, hence a second one.
        subscriber = client.duplicate();
        subscriber.on('error', onError);
        subscriber.on('message', (ch: string, message: string) =>
          handlers.get(ch)?.forEach((handle) => handle(message)),
        );
      }
      handlers.set(channel, [...(handlers.get(channel) ?? []), onMessage]);
      await subscriber.subscribe(channel);
    },
    close: async () => {
      subscriber?.disconnect();
      await client.quit().catch(() => client.disconnect());
    },
  };
}

export function createMemoryStore(): SharedStore {
  const values = new Map<string, { value: string; expiresAt: number }>();
  const hashes = new Map<string, Map<string, string>>();
  const bus = new EventEmitter();
  const hash = (key: string): Map<string, string> => hashes.get(key) ?? hashes.set(key, new Map()).get(key)!;
  return {
    kind: 'memory',
    ping: async () => true,
    get: async (key) => {
      const entry = values.get(key);
      if (!entry || entry.expiresAt < Date.now()) return null;
      return entry.value;
    },
    set: async (key, value, ttlMs) => void values.set(key, { value, expiresAt: ttlMs ? Date.now() + ttlMs : Infinity }),
    raise: async (key, rank, value) => {
      const current = parseRanked(values.get(key)?.value);
      if (!current || current.rank < rank) values.set(key, { value: `${rank} ${value}`, expiresAt: Infinity });
    },
    ranked: async (key) => parseRanked(values.get(key)?.value),
    hset: async (key, field, value) => void hash(key).set(field, value),
    hgetall: async (key) => Object.fromEntries(hashes.get(key) ?? []),
    hdel: async (key, field) => void hashes.get(key)?.delete(field),
    claim: async (key, ttlMs) => {
      const now = Date.now();
      const entry = values.get(key);
      if (entry && entry.expiresAt >= now) return false;
      // Claims expire by themselves in Redis; here the expired ones are swept as new ones arrive.
      if (values.size % 1024 === 0)
        for (const [stale, { expiresAt }] of values) if (expiresAt < now) values.delete(stale);
      values.set(key, { value: '1', expiresAt: now + ttlMs });
      return true;
    },
    publish: async (channel, message) => void bus.emit(channel, message),
    subscribe: async (channel, onMessage) => void bus.on(channel, onMessage),
    close: async () => {
      bus.removeAllListeners();
      values.clear();
      hashes.clear();
    },
  };
}
