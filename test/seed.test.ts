/** Seed data: deterministic, valid codes, the distributions the product needs, idempotent writes. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../lib/logger.ts';
import { checkUscc } from '../lib/uscc.ts';
import { connectDatabase, departmentDatabaseName, startMongo, type MongoServer } from '../lib/stores/mongo.ts';
import { restorationSettings } from '../subgraphs/runtime/config.ts';
import { seedSubject, seedSubjects, SEED_REFERENCE_DATE } from '../subgraphs/runtime/seed-subjects.ts';
import { seedAll } from '../subgraphs/seed.ts';
import { dropDepartmentDatabases } from './support/databases.ts';
import type { Connection } from 'mongoose';
import type { PenaltyDocument } from '../subgraphs/penalties/models.ts';
import type { ListingDocument, RestorationApplicationDocument } from '../subgraphs/credit/models.ts';

describe('seed subjects', () => {
  it('are the same on every run and have valid, distinct codes', () => {
    assert.deepEqual(seedSubject(1234), seedSubject(1234));
    const subjects = seedSubjects(3000);
    for (const subject of subjects) assert.equal(checkUscc(subject.uscc), null, subject.uscc);
    assert.equal(new Set(subjects.map((subject) => subject.uscc)).size, subjects.length);
  });

  it('draw every risk profile in plausible proportions', () => {
    const counts = new Map<string, number>();
    for (const subject of seedSubjects(2000)) counts.set(subject.risk, (counts.get(subject.risk) ?? 0) + 1);
    assert.ok((counts.get('clean') ?? 0) > 1000);
    assert.ok((counts.get('serious') ?? 0) > 30);
  });
});

describe('seeding the departments', () => {
  let mongo: MongoServer;
  let dataDir: string;
  const log = createLogger('test');
  before(async () => {
    process.env.LOG_LEVEL = 'silent';
    process.env.MONGODB_DB_PREFIX = `credence_seedtest_${process.pid}_`;
    dataDir = await mkdtemp(join(tmpdir(), 'credence-seed-'));
    mongo = await startMongo({ dataDir, log });
  });
  after(async () => {
    await dropDepartmentDatabases(mongo.uri);
    await mongo.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes records in every department, and re-running writes nothing new', async () => {
    const first = await seedAll({ mongoUri: mongo.uri, subjects: 400, log });
    const { audit, ...creditData } = first;
    for (const [department, count] of Object.entries(creditData)) assert.ok(count > 0, `${department} has records`);
    assert.equal(audit, 0, 'the access log is written by gateways, never seeded');
    const again = await seedAll({ mongoUri: mongo.uri, subjects: 400, log });
    assert.deepEqual(Object.values(again), [0, 0, 0, 0, 0, 0]);
    const extended = await seedAll({ mongoUri: mongo.uri, subjects: 450, log });
    assert.ok(
      (extended.registry ?? 0) > 0 && (extended.registry ?? 0) < (first.registry ?? 0),
      'a larger run adds only the new subjects',
    );
  });

  it('a run stopped inside a batch resumes from its mark: nothing is written twice, the rest is added', async () => {
    // What the previous test left: 450 subjects, marked. Pretend each department stopped
    // after marking 300 of them, with the next batch already half written.
    const names = ['registry', 'judicial', 'tax', 'penalties', 'credit'];
    const inEach = async (use: (db: NonNullable<Connection['db']>) => Promise<void>): Promise<void> => {
      for (const name of names) {
        const connection = await connectDatabase(mongo.uri, departmentDatabaseName(name));
        try {
          assert.ok(connection.db);
          await use(connection.db);
        } finally {
          await connection.close();
        }
      }
    };
    const documents = async (): Promise<number> => {
      let total = 0;
      await inEach(async (db) => {
        for (const { name } of await db.listCollections().toArray()) {
          if (name !== 'seed_info') total += await db.collection(name).countDocuments();
        }
      });
      return total;
    };
    await inEach(async (db) => {
      await db.collection('seed_info').updateOne({ _id: 'progress' as never }, { $set: { subjects: 300 } });
    });
    const before = await documents();
    const resumed = await seedAll({ mongoUri: mongo.uri, subjects: 450, log });
    assert.deepEqual(Object.values(resumed), [0, 0, 0, 0, 0, 0], 'the half-written batch adds nothing it had');
    assert.equal(await documents(), before, 'and duplicates nothing');
    const extended = await seedAll({ mongoUri: mongo.uri, subjects: 470, log });
    assert.ok((extended.registry ?? 0) > 0, 'a larger run after a resume adds the new subjects');
  });

  it('includes penalties inside and outside a year, restored ones and non-restorable serious categories', async () => {
    const connection = await connectDatabase(mongo.uri, departmentDatabaseName('penalties'));
    try {
      const penalties = await connection.collection<PenaltyDocument>('penalties').find({}).toArray();
      const yearAgo = new Date(SEED_REFERENCE_DATE.getTime() - 365 * 86_400_000);
      assert.ok(
        penalties.some((p) => p.decidedOn > yearAgo),
        'some decided within the last year',
      );
      assert.ok(
        penalties.some((p) => p.decidedOn < yearAgo),
        'some decided before that',
      );
      assert.ok(
        penalties.some((p) => p.restoredOn !== null),
        'some restored',
      );
      const nonRestorable = penalties.filter((p) => restorationSettings().nonRestorable.has(p.category));
      assert.ok(nonRestorable.length > 0, 'some in non-restorable categories');
      assert.ok(
        nonRestorable.every((p) => p.severity === 'SERIOUS' && p.restoredOn === null),
        'never restored, always serious',
      );
      assert.deepEqual(new Set(penalties.map((p) => p.severity)), new Set(['MINOR', 'GENERAL', 'SERIOUS']));
    } finally {
      await connection.close();
    }
  });

  it('gives every listing a basis document and restores only eligible listings', async () => {
    const connection = await connectDatabase(mongo.uri, departmentDatabaseName('credit'));
    try {
      const listings = await connection.collection<ListingDocument>('listings').find({}).toArray();
      assert.ok(listings.length > 0);
      for (const listing of listings) {
        assert.ok(
          listing.basis?.number && listing.basis.issuedBy && listing.basis.issuedOn instanceof Date,
          `listing ${listing._id} has its basis`,
        );
      }
      const excluded = listings.filter((l) => restorationSettings().nonRestorable.has(l.listType));
      assert.ok(excluded.length > 0, 'some listings of kinds never restored');
      assert.ok(excluded.every((l) => l.restoredOn === null));
      const applications = await connection
        .collection<RestorationApplicationDocument>('restoration_applications')
        .find({})
        .toArray();
      assert.deepEqual(new Set(applications.map((a) => a.status)), new Set(['PENDING', 'APPROVED', 'REJECTED']));
    } finally {
      await connection.close();
    }
  });
});
