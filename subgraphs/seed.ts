/**
 * Deterministic demo and benchmark data for every department. Subject `i` is always the same, and
 * every document has a deterministic `_id`, so re-running adds nothing that is already there and
 * a larger run extends a smaller one.
 */
import type { Logger } from '../lib/logger.ts';
import { connectDatabase, departmentDatabaseName } from '../lib/stores/mongo.ts';
import { departments } from './departments.ts';
import { SEED_REFERENCE_DATE, seedSubject } from './runtime/seed-subjects.ts';
import type { AnyDepartment, SeedWriter } from './runtime/department.ts';
import type { Connection } from 'mongoose';

export const DEFAULT_SUBJECT_COUNT = 2000;
const BATCH = 2000;

/**
 * Seeds every department. Dates are relative to `referenceDate` (SEED_REFERENCE_DATE unless
 * given): a run on the same reference date writes the same data.
 */
export async function seedAll(options: { mongoUri: string; subjects: number; log: Logger; referenceDate?: Date; departments?: readonly AnyDepartment[] }): Promise<Record<string, number>> {
  const referenceDate = options.referenceDate ?? SEED_REFERENCE_DATE;
  const inserted: Record<string, number> = {};
  await Promise.all((options.departments ?? departments).map(async (department) => {
    if (!department.seed) {
      inserted[department.name] = 0;
      return;
    }
    const connection = await connectDatabase(options.mongoUri, departmentDatabaseName(department.name));
    try {
      const models: unknown = department.defineModels(connection);
      await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));
      const write = createSeedWriter(connection);
      let count = 0;
      // Batches keep memory flat for large runs (100,000 subjects).
      for (let start = 0; start < options.subjects; start += BATCH) {
        const size = Math.min(BATCH, options.subjects - start);
        count += await department.seed(models, Array.from({ length: size }, (_, i) => seedSubject(start + i)), write, referenceDate);
      }
      inserted[department.name] = count;
    } finally {
      await connection.close();
    }
  }));
  options.log.info({ subjects: options.subjects, inserted }, 'seed data written');
  return inserted;
}

/**
 * A writer that inserts only documents whose `_id` is not stored yet. The stored ids are read once
 * per collection: asking the store to skip duplicates instead (unordered inserts ignoring
 * duplicate-key errors) leaves a dead row per refused document on FerretDB's PostgreSQL backend,
 * which slowed every later query.
 */
function createSeedWriter(connection: Connection): SeedWriter {
  // Read on a collection's first write only: a collection a seed leaves empty is never read.
  const stored = new Map<string, Promise<Set<string>>>();
  const storedIds = (name: string): Promise<Set<string>> => {
    let ids = stored.get(name);
    if (!ids) {
      ids = connection.collection(name).find({}, { projection: { _id: 1 } }).toArray().then((found) => new Set(found.map(({ _id }) => String(_id))));
      stored.set(name, ids);
    }
    return ids;
  };
  return async (model, documents) => {
    const ids = await storedIds(model.collection.name);
    const missing = documents.filter(({ _id }) => !ids.has(_id));
    if (missing.length === 0) return 0;
    await model.insertMany(missing, { ordered: true, lean: true });
    for (const { _id } of missing) ids.add(_id);
    return missing.length;
  };
}

/** True when the registry already holds subjects (then `npm start` does not seed again). */
export async function isSeeded(mongoUri: string): Promise<boolean> {
  const connection = await connectDatabase(mongoUri, departmentDatabaseName('registry'));
  try {
    return (await connection.collection('subjects').findOne({}, { projection: { _id: 1 } })) !== null;
  } finally {
    await connection.close();
  }
}
