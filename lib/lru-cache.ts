/**
 * A small least-recently-used cache of computed values. Policy decisions about an operation are
 * pure functions of (policy version, consumer view, operation), and partners repeat operations,
 * so each is computed once and then looked up.
 *
 * Bounded by entries and, where the values are documents, by an estimate of the bytes they hold:
 * a count alone let 2,000 distinct large documents (each a parsed tree with its token list) grow
 * a gateway to gigabytes. The estimate is the caller's (the source text's length times what a
 * parsed character costs); an entry larger than the whole budget is computed and not kept.
 */
/**
 * Bytes one character of an operation's source costs once parsed and kept (AST nodes, locations,
 * the token list, the source itself): measured with `npm run load:documents` (about 1.4 MB per
 * 32 KB document), rounded up. Caches of documents estimate an entry as its source length times this.
 */
export const PARSED_BYTES_PER_CHARACTER = 50;

/** Caches by name, for the metrics (lib/observability/metrics.ts reads their size, bytes, hits and misses when scraped). */
export type NamedCaches = Map<
  string,
  { readonly size: number; readonly bytes: number; readonly hits: number; readonly misses: number }
>;

export interface LruCacheOptions {
  maxEntries: number;
  /** The most bytes the values may hold together, by the sizes given to `get` (none: entries only). */
  maxBytes?: number;
}

export class LruCache<Value> {
  private readonly entries = new Map<string, { value: Value; bytes: number }>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private heldBytes = 0;
  /** Lookups answered from the cache, and lookups that found nothing (read by the metrics, lib/observability/). */
  hits = 0;
  misses = 0;

  constructor(options: LruCacheOptions) {
    this.maxEntries = options.maxEntries;
    this.maxBytes = options.maxBytes ?? Infinity;
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** The cached value of `key`, or `compute()`'s, kept with its estimated size in bytes. */
  get(key: string, compute: () => Value, bytes = 0): Value {
    const cached = this.lookup(key);
    if (cached !== undefined) return cached;
    const value = compute();
    this.store(key, value, bytes);
    return value;
  }

  /** The cached value of `key`, if any (it becomes the most recently used). */
  lookup(key: string): Value | undefined {
    const cached = this.entries.get(key);
    if (cached === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    // Re-inserting moves the entry to the newest end of the Map's order.
    this.entries.delete(key);
    this.entries.set(key, cached);
    return cached.value;
  }

  /** Keeps `value` under `key` with its estimated size, evicting the least recently used beyond the bounds. */
  store(key: string, value: Value, bytes = 0): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.heldBytes += bytes;
    while (this.entries.size > this.maxEntries || this.heldBytes > this.maxBytes) {
      const [oldest, entry] = this.entries.entries().next().value as [string, { bytes: number }];
      this.entries.delete(oldest);
      this.heldBytes -= entry.bytes;
    }
  }

  /** Forgets every entry (the tallies of hits and misses stay). */
  clear(): void {
    this.entries.clear();
    this.heldBytes = 0;
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.heldBytes -= entry.bytes;
    return true;
  }
}
