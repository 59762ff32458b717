import DataLoader from 'dataloader';
import { trusted, type Model } from 'mongoose';

/**
 * Records per reply: large enough that a batch of a request comes back in one round trip
 * instead of the driver's default first batch of 101 followed by `getMore` calls.
 */
const BATCH_SIZE = 50_000;

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
 * The filter value matching any of `keys`. A single key is asked as plain equality: MongoDB uses
 * its index either way, but FerretDB 1.x evaluates `$in` by scanning the collection while it
 * pushes equality down to its backend, and a partner's usual query is about one subject.
 */
function oneOf(keys: readonly string[]): string | { $in: string[] } {
  return keys.length === 1 ? (keys[0] as string) : trusted({ $in: [...keys] });
}

/** Records that belong to a credit subject. */
export interface SubjectRecord {
  uscc: string;
}

/**
 * A per-request loader of every record of a subject in one collection: all subjects asked for
 * during one request are fetched with a single `find`, which removes the N+1 pattern of
 * resolving a list of subjects. Operators are marked `trusted` because the connection sanitizes
 * every filter: only operators written here in code reach the database, never ones from input.
 */
export function recordsBySubject<T extends SubjectRecord & { _id: string }>(
  model: Model<T>,
  sort: Record<string, 1 | -1>,
  keyField?: string,
): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (codes) => {
    const records = (await model.find({ uscc: oneOf(codes) }).sort(sort).batchSize(BATCH_SIZE).lean()) as T[];
    const byCode = new Map<string, T[]>(codes.map((code) => [code, []]));
    for (const record of records) byCode.get(record.uscc)?.push(keyField ? withKey(record, keyField) : record);
    return codes.map((code) => byCode.get(code) ?? []);
  });
}

/** A per-request loader of documents by `_id`, null where none exists. */
export function documentsById<T extends { _id: string }>(model: Model<T>, keyField: string): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const documents = (await model.find({ _id: oneOf(ids) }).batchSize(BATCH_SIZE).lean()) as T[];
    const byId = new Map(documents.map((document) => [document._id, withKey(document, keyField)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
