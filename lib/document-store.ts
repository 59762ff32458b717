/**
 * Apollo Server's store of parsed and validated documents, bounded by what the documents hold.
 * Apollo's own store counts a document as the length of its JSON, which leaves out the token list
 * and locations a parsed document keeps (about 1.4 MB for a 32 KB document against some 300 KB of
 * JSON): distinct large documents then held several times its stated 30 MB. Here a document counts
 * as its source length times PARSED_BYTES_PER_CHARACTER (lru-cache.ts).
 */
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import { LruCache, PARSED_BYTES_PER_CHARACTER, type NamedCaches } from './lru-cache.ts';

export function boundedDocumentStore(maxBytes: number, caches?: NamedCaches): KeyValueCache<DocumentNode> {
  const cache = new LruCache<DocumentNode>({ maxEntries: 10_000, maxBytes });
  caches?.set('documents', cache);
  return {
    get: async (key) => cache.lookup(key),
    set: async (key, document) => cache.store(key, document, (document.loc?.end ?? 0) * PARSED_BYTES_PER_CHARACTER),
    delete: async (key) => cache.delete(key),
  };
}

/**
 * @apollo/gateway's query-plan store, as its own default (an LRU of about 30 MiB, a plan counted as
 * the length of its JSON), but one whose size and hit rate the metrics can read.
 */
export function boundedPlanStore<Plan>(
  maxBytes: number,
  caches?: NamedCaches,
): KeyValueCache<Plan> & { clear(): void } {
  const cache = new LruCache<Plan>({ maxEntries: 10_000, maxBytes });
  caches?.set('plans', cache);
  return {
    get: async (key) => cache.lookup(key),
    set: async (key, plan) => cache.store(key, plan, JSON.stringify(plan)?.length ?? 0),
    delete: async (key) => cache.delete(key),
    // A new supergraph makes every plan stale (@apollo/gateway clears its store then).
    clear: () => cache.clear(),
  };
}
