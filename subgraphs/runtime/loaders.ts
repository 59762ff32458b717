import DataLoader from 'dataloader';
import type { Connection, Model } from 'mongoose';
import { sendStoreCommand } from '../../lib/observability/store-commands.ts';
import { isFerretdb, STORE_QUERY_TIME_LIMIT_MS } from '../../lib/stores/mongo.ts';

/**
 * Records per reply: enough that a batch of a request comes back in one round trip instead of
 * the driver's default first batch of 101 followed by `getMore` calls, and no more. FerretDB's
 * CPU per find grows with the batch size asked, whatever the reply holds: on the partner
 * query's finds (a few records each) 50,000 cost it 0.3 to 0.4 ms more per find than 1,000,
 * which costs what the driver's default does (docs/store.md). A larger answer still arrives
 * whole, through `getMore`.
 */
const BATCH_SIZE = 1000;

/**
 * A document as the schema sees it: its `_id` also under the field name the schema gives it (a
 * decision number, a code). Done here, once per document, rather than by a resolver per row:
 * graphql-shield wraps every declared resolver in async middleware, which on a 2,000-row list
 * doubled execution time, while default-resolved fields cost nothing (the subgraph's operation
 * guard decides them before execution).
 */
export function withKey<T extends { _id: string }, K extends string>(document: T, keyField: K): T & Record<K, string> {
  return { ...document, [keyField]: document._id } as T & Record<K, string>;
}

/**
 * The documents whose `field` is one of `keys`. MongoDB serves `$in` from the field's index, in
 * one round trip. FerretDB 1.x does not push `$in` down: it reads the whole collection and
 * filters it itself, a cost that grows with the register. It does push equality down, which an
 * index serves (lib/stores/ferretdb-indexes.ts), so on FerretDB each key is asked alone, all at
 * once.
 */
async function findByKeys<T>(query: KeyedQuery<T>, keys: readonly string[]): Promise<T[]> {
  // The filter goes to the driver as built here, without mongoose's sanitizing: a key is a code,
  // never an object that could carry an operator ($ne, $where), whatever a caller passes.
  for (const key of keys) {
    if (typeof key !== 'string') throw new TypeError(`a ${query.collection}.${query.field} key must be a string`);
  }
  if (keys.length === 1) return query.find(keys[0] as string);
  if (await isFerretdb(query.connection)) return (await Promise.all(keys.map((key) => query.find(key)))).flat();
  return query.find({ $in: [...keys] });
}

/** The query a loader sends for its keys: built once, used by the loader and by the plan test (test/store-plans.test.ts). */
export interface KeyedQuery<T = unknown> {
  collection: string;
  field: string;
  connection: Connection;
  find(value: string | { $in: string[] }): Promise<T[]>;
  /** The store's plan for one key, as `explain` gives it. */
  explain(key: string): Promise<unknown>;
}

/**
 * Reads through the driver's collection, not a mongoose query: the documents come back plain
 * (as `lean()` would give them) without mongoose building, casting and hooking a query per call,
 * which was about a tenth of a department's CPU per call. The time limit the connection's
 * plugin sets on mongoose reads is set here instead.
 */
function keyedQuery<T>(model: Model<T>, field: string, sort?: Record<string, 1 | -1>): KeyedQuery<T> {
  const options = { batchSize: BATCH_SIZE, maxTimeMS: STORE_QUERY_TIME_LIMIT_MS, ...(sort ? { sort } : {}) };
  const cursor = (value: string | { $in: string[] }) => model.collection.find({ [field]: value }, options);
  return {
    collection: model.collection.collectionName,
    field,
    connection: model.db,
    // The collection holds this model's documents; the driver types them as plain documents.
    find: (value) =>
      sendStoreCommand(model.db, 'find', model.collection.collectionName, async () => {
        return (await cursor(value).toArray()) as unknown as T[];
      }),
    explain: (key) => cursor(key).explain(),
  };
}

const keyedQueries = new WeakMap<object, KeyedQuery>();

/** The query behind a loader made here; undefined for a loader made elsewhere (which the plan test refuses). */
export function keyedQueryOf(loader: object): KeyedQuery | undefined {
  return keyedQueries.get(loader);
}

/** Records that belong to a credit subject. */
export interface SubjectRecord {
  uscc: string;
}

/**
 * A per-request loader of every record of a subject in one collection: all subjects asked for
 * during one request are fetched together (one `find` on MongoDB, one per subject on FerretDB),
 * which removes the N+1 pattern of resolving a list of subjects.
 */
export function recordsBySubject<T extends SubjectRecord & { _id: string }>(
  model: Model<T>,
  sort: Record<string, 1 | -1>,
  keyField?: string,
): DataLoader<string, T[]> {
  const query = keyedQuery(model, 'uscc', sort);
  const loader = new DataLoader<string, T[]>(async (codes) => {
    const records = await findByKeys(query, codes);
    const byCode = new Map<string, T[]>(codes.map((code) => [code, []]));
    for (const record of records) byCode.get(record.uscc)?.push(keyField ? withKey(record, keyField) : record);
    return codes.map((code) => byCode.get(code) ?? []);
  });
  keyedQueries.set(loader, query);
  return loader;
}

/** A per-request loader of documents by `_id`, null where none exists. */
export function documentsById<T extends { _id: string }>(
  model: Model<T>,
  keyField: string,
): DataLoader<string, T | null> {
  const query = keyedQuery(model, '_id');
  const loader = new DataLoader<string, T | null>(async (ids) => {
    const documents = await findByKeys(query, ids);
    const byId = new Map<string, T>(documents.map((document) => [document._id, withKey(document, keyField)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  keyedQueries.set(loader, query);
  return loader;
}
