/**
 * Every query a department sends on a request's path is served by an index, asked of the store
 * itself through `explain`: on FerretDB over PostgreSQL, the filter is pushed down and PostgreSQL
 * plans an index scan (the GIN twins of lib/stores/ferretdb-indexes.ts); on MongoDB, the winning
 * plan has an IXSCAN. A loader not built from the shared loaders (subgraphs/runtime/loaders.ts)
 * fails here: its query could scan unseen.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection } from 'mongoose';
import pg from 'pg';
import { createLogger } from '../lib/logger.ts';
import { ACCESS_LOG_DEPARTMENT } from '../lib/access-log/store.ts';
import {
  connectDatabase,
  departmentDatabaseName,
  isFerretdb,
  startMongo,
  type MongoServer,
} from '../lib/stores/mongo.ts';
import { departments } from '../subgraphs/departments.ts';
import { chooseFerretdbBackend } from '../lib/stores/ferretdb.ts';
import { sharedSettings } from '../lib/config/shared.ts';
import { keyedQueryOf } from '../subgraphs/runtime/loaders.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { seedAll } from '../subgraphs/seed.ts';
import { dropDepartmentDatabases } from './support/databases.ts';

/** The node types of a plan, at every depth (PostgreSQL's "Node Type", MongoDB's "stage"). */
function planNodes(plan: unknown, found: string[] = []): string[] {
  if (Array.isArray(plan)) for (const item of plan) planNodes(item, found);
  else if (plan !== null && typeof plan === 'object') {
    for (const [key, value] of Object.entries(plan)) {
      if ((key === 'Node Type' || key === 'stage') && typeof value === 'string') found.push(value);
      else planNodes(value, found);
    }
  }
  return found;
}

/** What the store's plan says about one query: served by an index, or why not. */
function servedByIndex(explained: unknown, ferretdb: boolean): { served: boolean; why: string } {
  const nodes = planNodes(explained);
  if (ferretdb) {
    const { pushdown, filterPushdown } = explained as { pushdown?: boolean; filterPushdown?: boolean };
    const pushed = (filterPushdown ?? pushdown) === true;
    const indexed = nodes.some((node) => /Index/.test(node)) && !nodes.includes('Seq Scan');
    return { served: pushed && indexed, why: `pushdown ${String(pushed)}, plan ${nodes.join(' > ')}` };
  }
  return { served: nodes.includes('IXSCAN') && !nodes.includes('COLLSCAN'), why: `plan ${nodes.join(' > ')}` };
}

describe('store plans: every per-request query is served by an index', () => {
  let mongo: MongoServer;
  let dataDir: string;
  const connections: Connection[] = [];
  const log = createLogger('test');

  before(async () => {
    process.env.LOG_LEVEL = 'silent';
    process.env.MONGODB_DB_PREFIX = `credence_plans_${process.pid}_`;
    dataDir = await mkdtemp(join(tmpdir(), 'credence-plans-'));
    // A few seeded rows are cheaper to scan than to look up, and PostgreSQL rightly scans them.
    // With sequential scans priced out for this test's FerretDB, a scan in a plan means that no
    // index could serve the query, which is what this test is about.
    const backend = await chooseFerretdbBackend(sharedSettings().ferretdb);
    if (!process.env.MONGODB_URI && backend.handler === 'postgresql') {
      const url = new URL(backend.url);
      url.searchParams.set('enable_seqscan', 'off');
      process.env.FERRETDB_POSTGRESQL_URL = url.toString();
    }
    mongo = await startMongo({ dataDir, log });
    await seedAll({ mongoUri: mongo.uri, subjects: 300, log });
  });
  after(async () => {
    for (const connection of connections) await connection.close();
    await dropDepartmentDatabases(mongo.uri);
    await mongo.stop();
    await rm(dataDir, { recursive: true, force: true });
    delete process.env.FERRETDB_POSTGRESQL_URL;
  });

  it('adapting the indexes creates them once: a second run creates nothing', async (t) => {
    const created = await mongo.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });
    if (!mongo.uri.includes('127.0.0.1') || created.length === 0) {
      // MongoDB (or FerretDB on SQLite) needs no twins; the plans below are checked all the same.
      t.diagnostic(`no index adapted on ${mongo.description}`);
    } else {
      assert.ok(
        created.some(({ field }) => field === 'uscc'),
        'the subject code of every record collection',
      );
      assert.ok(
        created.some(({ field }) => field === '_id'),
        'the key of every collection',
      );
      assert.ok(
        created.every(({ schema }) => schema !== departmentDatabaseName(ACCESS_LOG_DEPARTMENT)),
        'the access log is left alone',
      );
    }
    assert.deepEqual(await mongo.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] }), []);
  });

  it('rows written after adapting go straight into the indexes: no pending list for a lookup to read', async (t) => {
    const backend = await chooseFerretdbBackend(sharedSettings().ferretdb);
    if (process.env.MONGODB_URI || backend.handler !== 'postgresql') return t.skip('no PostgreSQL under this store');
    // More of the register, written after the indexes were adapted (a later seed, new records).
    await seedAll({ mongoUri: mongo.uri, subjects: 400, log });
    const client = new pg.Client({ connectionString: backend.url });
    await client.connect();
    try {
      const twins = await client.query<{ index: string; options: string[] | null }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS index, c.reloptions AS options
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'i' AND starts_with(n.nspname, $1) AND right(c.relname, 4) = '_gin'`,
        [sharedSettings().mongoDbPrefix],
      );
      assert.ok(twins.rows.length > 10, `the GIN twins exist (${twins.rows.length})`);
      for (const { index, options } of twins.rows) {
        assert.ok(options?.includes('fastupdate=off'), `${index} has no pending list (${String(options)})`);
      }
      await client.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
      for (const { index } of twins.rows) {
        const { rows } = await client.query<{ pending: string }>(
          'SELECT pending_tuples::text AS pending FROM pgstatginindex($1::regclass)',
          [index],
        );
        assert.equal(rows[0]?.pending, '0', `${index}: no row waits in a pending list`);
      }
    } finally {
      await client.end();
    }
  });

  it('a second set of databases whose tables are named alike gets its own twins', async (t) => {
    const backend = await chooseFerretdbBackend(sharedSettings().ferretdb);
    if (process.env.MONGODB_URI || backend.handler !== 'postgresql') return t.skip('no PostgreSQL under this store');
    // FerretDB names a collection's table alike in every database: the twins already made for this
    // test's databases must not pass for twins of the second set (npm start beside a test's leftovers).
    const prefix = sharedSettings().mongoDbPrefix;
    const secondPrefix = `${prefix}second_`;
    process.env.MONGODB_DB_PREFIX = secondPrefix;
    try {
      await seedAll({ mongoUri: mongo.uri, subjects: 20, log });
    } finally {
      process.env.MONGODB_DB_PREFIX = prefix;
    }
    try {
      const created = await mongo.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });
      for (const { name } of departments.filter((department) => department.name !== ACCESS_LOG_DEPARTMENT)) {
        const schema = `${secondPrefix}${name}`;
        assert.ok(
          created.some((index) => index.schema === schema && index.field === '_id'),
          `${schema} has twins of its own (created: ${created.map((index) => index.schema).join(', ')})`,
        );
      }
      assert.ok(
        created.every(({ schema }) => schema.startsWith(secondPrefix)),
        'the first set keeps the twins it had',
      );
    } finally {
      process.env.MONGODB_DB_PREFIX = secondPrefix;
      await dropDepartmentDatabases(mongo.uri).finally(() => (process.env.MONGODB_DB_PREFIX = prefix));
    }
  });

  for (const department of departments) {
    if (!department.createLoaders) continue;
    it(`${department.name}: every loader's query is served by an index`, async (t) => {
      const connection = await connectDatabase(mongo.uri, departmentDatabaseName(department.name));
      connections.push(connection);
      const ferretdb = await isFerretdb(connection);
      const loaders = department.createLoaders?.(department.defineModels(connection)) as Record<string, object>;
      assert.ok(Object.keys(loaders).length > 0);
      for (const [name, loader] of Object.entries(loaders)) {
        const query = keyedQueryOf(loader);
        assert.ok(
          query,
          `${department.name}.${name} is not built from the shared loaders: its query plan is unchecked`,
        );
        // A key that exists, so that the plan is the one a real request gets.
        const key =
          query.field === 'uscc'
            ? seedSubject(0).uscc
            : String((await connection.collection(query.collection).findOne({}, { projection: { _id: 1 } }))?._id);
        const verdict = servedByIndex(await query.explain(key), ferretdb);
        t.diagnostic(`${department.name}.${name} (${query.collection}.${query.field}): ${verdict.why}`);
        assert.ok(
          verdict.served,
          `${department.name}.${name} on ${query.collection}.${query.field} scans: ${verdict.why}`,
        );
      }
    });
  }
});
