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
export async function seedAll(options: {
  mongoUri: string;
  subjects: number;
  log: Logger;
  referenceDate?: Date;
  /** The departments to seed: every one in subgraphs/departments.ts unless given (a test's added department). */
  departments?: readonly AnyDepartment[];
  /** Told how many subjects every department has written so far, after each batch (a large register takes minutes). */
  onProgress?: (subjectsDone: number) => void;
}): Promise<Record<string, number>> {
  const referenceDate = options.referenceDate ?? SEED_REFERENCE_DATE;
  const inserted: Record<string, number> = {};
  const seeded = options.departments ?? departments;
  // Per department, how many subjects it has written; progress is the slowest department's.
  const done = new Map<string, number>(
    seeded.filter((department) => department.seed !== undefined).map((department) => [department.name, 0]),
  );
  let reported = 0;
  const advance = (department: string, subjects: number): void => {
    done.set(department, subjects);
    const slowest = Math.min(...done.values());
    if (slowest > reported) {
      reported = slowest;
      options.onProgress?.(slowest);
    }
  };
  await Promise.all(
    seeded.map(async (department) => {
      if (!department.seed) {
        inserted[department.name] = 0;
        return;
      }
      const connection = await connectDatabase(options.mongoUri, departmentDatabaseName(department.name));
      try {
        const models: unknown = department.defineModels(connection);
        await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));
        // Subjects below the mark are stored in full: their batches are skipped, so extending a
        // large register, or seeding it again, does not read back what is there.
        const resumeAt = await seededSubjects(connection, referenceDate);
        const checked = createSeedWriter(connection);
        let count = 0;
        // Batches keep memory flat for large runs (1,000,000 subjects).
        for (let start = 0; start < options.subjects; start += BATCH) {
          const size = Math.min(BATCH, options.subjects - start);
          if (start + size <= resumeAt) {
            advance(department.name, start + size);
            continue;
          }
          // Without a mark (a store seeded by an older version), every write checks the stored
          // ids; the batch at the mark may be half written (a run stopped mid-batch), so it skips
          // what is there; the batches after it are new.
          const write = resumeAt === 0 ? checked : start < resumeAt + BATCH ? insertNew : insertAll;
          count += await department.seed(
            models,
            Array.from({ length: size }, (_, i) => seedSubject(start + i)),
            write,
            referenceDate,
          );
          await markSeeded(connection, start + size, referenceDate);
          advance(department.name, start + size);
        }
        inserted[department.name] = count;
      } finally {
        await connection.close();
      }
    }),
  );
  await markSeedFormat(options.mongoUri);
  options.log.info({ subjects: options.subjects, inserted }, 'seed data written');
  return inserted;
}

/** Where a department's seed stands: every subject below `subjects` is written, for this format and reference date. */
interface SeedMark {
  _id: 'progress';
  subjects: number;
  format: number;
  referenceDate: Date;
}

const SEED_MARK_COLLECTION = 'seed_info';

/** The subjects a department has written in full for this format and reference date (0: none, or data of another kind). */
async function seededSubjects(connection: Connection, referenceDate: Date): Promise<number> {
  const mark = await connection.collection<SeedMark>(SEED_MARK_COLLECTION).findOne({ _id: 'progress' });
  if (!mark || mark.format !== SEED_FORMAT || mark.referenceDate.getTime() !== referenceDate.getTime()) return 0;
  return mark.subjects;
}

async function markSeeded(connection: Connection, subjects: number, referenceDate: Date): Promise<void> {
  await connection
    .collection<SeedMark>(SEED_MARK_COLLECTION)
    .updateOne({ _id: 'progress' }, { $set: { subjects, format: SEED_FORMAT, referenceDate } }, { upsert: true });
}

/** Inserts documents known to be new (batches after the seed's mark). */
const insertAll: SeedWriter = async (model, documents) => {
  if (documents.length === 0) return 0;
  await model.insertMany(documents, { ordered: true, lean: true });
  return documents.length;
};

/**
 * Inserts what is not stored yet of a batch that may be half written, skipping duplicate keys.
 * Each skipped document leaves a dead row on FerretDB's PostgreSQL backend; at most one batch does.
 */
const insertNew: SeedWriter = async (model, documents) => {
  if (documents.length === 0) return 0;
  try {
    const result = await model.collection.insertMany([...documents] as never[], { ordered: false });
    return result.insertedCount;
  } catch (error) {
    const { insertedCount, writeErrors } = error as { insertedCount?: number; writeErrors?: { code?: number }[] };
    const errors = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
    if (insertedCount === undefined || !errors.every((writeError) => writeError?.code === 11000)) throw error;
    return insertedCount;
  }
};

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
      ids = connection
        .collection(name)
        .find({}, { projection: { _id: 1 } })
        .toArray()
        .then((found) => new Set(found.map(({ _id }) => String(_id))));
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

/**
 * The shape of the demo data this code writes. Raise it whenever a seeded document changes shape
 * (a new required field, a new `_id` scheme): a store seeded by older code then answers with
 * documents the departments cannot read (issue 15 keyed penalties by authority and decision
 * number, and an older store answered `decisionNumber` with INTERNAL_SERVER_ERROR).
 */
export const SEED_FORMAT = 2;

/** Where the format of the seeded data is kept: beside the subjects it describes. */
const SEED_INFO = { database: 'registry', collection: 'seed_info', id: 'demo' } as const;

export type SeedState = 'empty' | 'current' | 'outdated';

/** Whether the store holds no demo data, data of this code's format, or data an older version wrote. */
export async function seedState(mongoUri: string): Promise<SeedState> {
  const connection = await connectDatabase(mongoUri, departmentDatabaseName(SEED_INFO.database));
  try {
    const subject = await connection.collection('subjects').findOne({}, { projection: { _id: 1 } });
    if (subject === null) return 'empty';
    const info = await connection
      .collection<{ _id: string; format: number }>(SEED_INFO.collection)
      .findOne({ _id: SEED_INFO.id });
    return info?.format === SEED_FORMAT ? 'current' : 'outdated';
  } finally {
    await connection.close();
  }
}

/** Records that the store's demo data is of this code's format (after a complete seed only). */
async function markSeedFormat(mongoUri: string): Promise<void> {
  const connection = await connectDatabase(mongoUri, departmentDatabaseName(SEED_INFO.database));
  try {
    await connection
      .collection<{ _id: string; format: number }>(SEED_INFO.collection)
      .replaceOne({ _id: SEED_INFO.id }, { format: SEED_FORMAT }, { upsert: true });
  } finally {
    await connection.close();
  }
}

/** Drops every department's demo data, the access log's database excepted: accesses are never discarded with demo data. */
async function dropDemoData(mongoUri: string): Promise<void> {
  await Promise.all(
    departments
      .filter((department) => department.seed !== undefined)
      .map(async (department) => {
        const connection = await connectDatabase(mongoUri, departmentDatabaseName(department.name));
        try {
          await connection.dropDatabase();
        } finally {
          await connection.close();
        }
      }),
  );
}

/**
 * What `npm start` does with the store before the departments start: seeds an empty one; and
 * replaces demo data an older version wrote, but only in the embedded store, which holds nothing
 * else. A store the operator named (MONGODB_URI) is never dropped: outdated data there stops the
 * start with what to do.
 */
export async function ensureDemoData(options: {
  mongoUri: string;
  embedded: boolean;
  subjects: number;
  log: Logger;
  referenceDate?: Date;
}): Promise<SeedState> {
  const state = await seedState(options.mongoUri);
  if (state === 'current') return state;
  if (state === 'outdated') {
    if (!options.embedded) {
      throw new Error(
        `The store at MONGODB_URI holds demo data of an older format (this version writes format ${SEED_FORMAT}). ` +
          'Empty its department databases, or point MONGODB_URI at an empty store, and start again.',
      );
    }
    options.log.warn(
      { format: SEED_FORMAT },
      'the embedded store holds demo data of an older version: replacing it (the access log is kept)',
    );
    await dropDemoData(options.mongoUri);
  } else {
    options.log.info({ subjects: options.subjects }, 'empty store: seeding demo data');
  }
  await seedAll({
    mongoUri: options.mongoUri,
    subjects: options.subjects,
    log: options.log,
    ...(options.referenceDate ? { referenceDate: options.referenceDate } : {}),
  });
  return state;
}
