/** The embedded store: FerretDB on either backend answers real commands. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import mongoose from 'mongoose';
import { createLogger } from '../lib/logger.ts';
import { readSharedSettings } from '../lib/config/shared.ts';
import { chooseFerretdbBackend, startFerretdb } from '../lib/stores/ferretdb.ts';
import { freePort } from '../lib/stores/net.ts';

const log = createLogger('test');

it('chooses the backend from the environment', async () => {
  assert.deepEqual(
    await chooseFerretdbBackend(
      readSharedSettings({ FERRETDB_POSTGRESQL_URL: 'postgres://db.example/ferret' }).ferretdb,
    ),
    { handler: 'postgresql', url: 'postgres://db.example/ferret' },
  );
  assert.deepEqual(await chooseFerretdbBackend(readSharedSettings({ FERRETDB_HANDLER: 'sqlite' }).ferretdb), {
    handler: 'sqlite',
  });
});

it('serves reads and writes on SQLite files, for machines without PostgreSQL', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'credence-sqlite-'));
  const server = await startFerretdb({ dataDir, port: await freePort(), log, backend: { handler: 'sqlite' } });
  const connection = await mongoose.createConnection(server.uri, { dbName: 'sqlite_check' }).asPromise();
  try {
    const things = connection.collection<{ _id: string; uscc: string }>('things');
    await things.insertMany([
      { _id: 'a', uscc: 'x' },
      { _id: 'b', uscc: 'y' },
    ]);
    assert.deepEqual(await things.find({ uscc: { $in: ['y'] } }).toArray(), [{ _id: 'b', uscc: 'y' }]);
  } finally {
    await connection.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
