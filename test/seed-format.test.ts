/**
 * Demo data written by an older version: `npm start` must not serve documents the departments can
 * no longer read (a store seeded before penalties were keyed by authority and decision number
 * answered `decisionNumber` with INTERNAL_SERVER_ERROR).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../lib/logger.ts';
import { connectDatabase, departmentDatabaseName, startMongo, type MongoServer } from '../lib/stores/mongo.ts';
import { ensureDemoData, seedState } from '../subgraphs/seed.ts';
import { dropDepartmentDatabases } from './support/databases.ts';

/** Runs `use` on one department's database. */
async function inDatabase<T>(
  uri: string,
  department: string,
  use: (db: NonNullable<Awaited<ReturnType<typeof connectDatabase>>['db']>) => Promise<T>,
): Promise<T> {
  const connection = await connectDatabase(uri, departmentDatabaseName(department));
  try {
    const { db } = connection;
    assert.ok(db);
    return await use(db);
  } finally {
    await connection.close();
  }
}

describe('demo data of an older version', () => {
  let mongo: MongoServer;
  let dataDir: string;
  const log = createLogger('test');
  const OLD_PENALTY = { _id: 'OLD-DECISION-1', uscc: '91110000600037341L', category: 'UNLICENSED_OPERATION' };
  const KEPT_ACCESS = { _id: 'an-access-to-keep', kind: 'ACCESS' };

  before(async () => {
    process.env.LOG_LEVEL = 'silent';
    process.env.MONGODB_DB_PREFIX = `credence_seedformat_${process.pid}_`;
    dataDir = await mkdtemp(join(tmpdir(), 'credence-seed-format-'));
    mongo = await startMongo({ dataDir, log });
  });
  after(async () => {
    await dropDepartmentDatabases(mongo.uri);
    await mongo.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("an empty store is seeded and marked with this version's format", async () => {
    assert.equal(await seedState(mongo.uri), 'empty');
    assert.equal(await ensureDemoData({ mongoUri: mongo.uri, embedded: true, subjects: 60, log }), 'empty');
    assert.equal(await seedState(mongo.uri), 'current');
    assert.equal(
      await ensureDemoData({ mongoUri: mongo.uri, embedded: true, subjects: 60, log }),
      'current',
      'a current store is left as it is',
    );
  });

  it('a store the operator named (MONGODB_URI) is never dropped: the start stops and says what to do', async () => {
    // What an older version left: a penalty keyed by its decision number alone, and no format mark.
    await inDatabase(mongo.uri, 'penalties', (db) =>
      db.collection<{ _id: string }>('penalties').insertOne(OLD_PENALTY),
    );
    await inDatabase(mongo.uri, 'registry', (db) => db.collection('seed_info').deleteMany({}));
    assert.equal(await seedState(mongo.uri), 'outdated');
    await assert.rejects(
      ensureDemoData({ mongoUri: mongo.uri, embedded: false, subjects: 60, log }),
      /MONGODB_URI holds demo data of an older format/,
    );
    const kept = await inDatabase(mongo.uri, 'penalties', (db) =>
      db.collection<{ _id: string }>('penalties').findOne({ _id: OLD_PENALTY._id }),
    );
    assert.ok(kept, 'nothing was dropped');
  });

  it("the embedded store's outdated demo data is replaced, and the access log is kept", async () => {
    await inDatabase(mongo.uri, 'audit', (db) =>
      db.collection<{ _id: string }>('access_records').insertOne(KEPT_ACCESS),
    );
    assert.equal(await ensureDemoData({ mongoUri: mongo.uri, embedded: true, subjects: 60, log }), 'outdated');
    assert.equal(await seedState(mongo.uri), 'current');
    const penalties = await inDatabase(mongo.uri, 'penalties', (db) =>
      db.collection<{ _id: string; decisionNumber?: string }>('penalties').find({}).toArray(),
    );
    assert.ok(penalties.length > 0, 'reseeded');
    assert.equal(
      penalties.find(({ _id }) => _id === OLD_PENALTY._id),
      undefined,
      'the old document is gone',
    );
    assert.ok(
      penalties.every((penalty) => typeof penalty.decisionNumber === 'string'),
      'every penalty has the current shape',
    );
    const access = await inDatabase(mongo.uri, 'audit', (db) =>
      db.collection<{ _id: string }>('access_records').findOne({ _id: KEPT_ACCESS._id }),
    );
    assert.ok(access, 'accesses are never discarded with demo data');
  });
});
