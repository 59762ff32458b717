/**
 * Store commands timed where a department sends them (lib/observability/store-commands.ts): the
 * loaders' driver reads and the models' queries and saves each reach the observers once, named
 * by command and collection, with their failures; a connection nobody observes pays nothing,
 * and the driver's own command events stay off.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Schema, type Connection } from 'mongoose';
import { createLogger } from '../lib/logger.ts';
import {
  observeStoreCommands,
  sendStoreCommand,
  timeModelCommands,
  type StoreCommand,
} from '../lib/observability/store-commands.ts';
import { connectDatabase, startMongo, type MongoServer } from '../lib/stores/mongo.ts';
import { documentsById } from '../subgraphs/runtime/loaders.ts';

interface Seen extends StoreCommand {
  failed: boolean;
  ended: boolean;
}

interface Thing {
  _id: string;
  label: string;
  basis?: { number: string };
}

describe('store commands timed where they are sent', () => {
  let mongo: MongoServer;
  let dataDir: string;
  let connection: Connection;
  const seen: Seen[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'credence-store-commands-'));
    mongo = await startMongo({ dataDir, log: createLogger('test') });
    connection = await connectDatabase(mongo.uri, `credence_store_commands_${process.pid}`);
    timeModelCommands(connection);
    connection.model<Thing>(
      'Thing',
      new Schema<Thing>({
        _id: String,
        label: { type: String, required: true },
        // An embedded schema, as a listing's basis document: the plugin reaches it too.
        basis: { type: new Schema({ number: String }, { _id: false }), required: false },
      }),
    );
    observeStoreCommands(connection, {
      started(command) {
        const entry: Seen = { ...command, failed: false, ended: false };
        seen.push(entry);
        return (failure) => {
          entry.ended = true;
          entry.failed = failure !== undefined;
        };
      },
    });
  });
  after(async () => {
    await connection?.db?.dropDatabase();
    await connection?.close();
    await mongo?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const take = (): Seen[] => seen.splice(0, seen.length);

  it('a save and a query through the models: insert, update, find, each ended once', async () => {
    take();
    const Thing = connection.model<Thing>('Thing');
    const thing = await Thing.create({ _id: 'a', label: 'first', basis: { number: 'B-1' } });
    thing.label = 'second';
    await thing.save();
    await Thing.updateOne({ _id: 'a' }, { $set: { label: 'third' } });
    const found = await Thing.findById('a').lean();
    assert.equal(found?.label, 'third');
    await Thing.deleteOne({ _id: 'a' });
    assert.deepEqual(
      take().map(({ name, collection, failed, ended }) => ({ name, collection, failed, ended })),
      [
        { name: 'insert', collection: 'things', failed: false, ended: true },
        { name: 'update', collection: 'things', failed: false, ended: true },
        { name: 'update', collection: 'things', failed: false, ended: true },
        { name: 'find', collection: 'things', failed: false, ended: true },
        { name: 'delete', collection: 'things', failed: false, ended: true },
      ],
    );
  });

  it('a failed command ends as failed, and its error still reaches the caller', async () => {
    take();
    const Thing = connection.model<Thing>('Thing');
    await Thing.create({ _id: 'dup', label: 'one' });
    await assert.rejects(Thing.create({ _id: 'dup', label: 'two' }), /duplicate key|E11000/i);
    await assert.rejects(
      sendStoreCommand(connection, 'find', 'things', () => Promise.reject(new Error('the store went away'))),
      /the store went away/,
    );
    const commands = take();
    assert.deepEqual(
      commands.map(({ name, failed }) => ({ name, failed })),
      [
        { name: 'insert', failed: false },
        { name: 'insert', failed: true },
        { name: 'find', failed: true },
      ],
    );
    assert.ok(commands.every((command) => command.database === connection.name));
  });

  it("a loader's read through the driver is observed as one find per key on its collection", async () => {
    const Thing = connection.model<Thing>('Thing');
    await Thing.create([
      { _id: 'k1', label: 'one' },
      { _id: 'k2', label: 'two' },
    ]);
    take();
    const loader = documentsById(Thing, 'key');
    const [one, two, none] = await Promise.all([loader.load('k1'), loader.load('k2'), loader.load('missing')]);
    assert.equal(one?.label, 'one');
    assert.equal(two?.label, 'two');
    assert.equal(none, null);
    const commands = take();
    assert.ok(commands.length >= 1, 'the batch was observed');
    assert.ok(commands.every((command) => command.name === 'find' && command.collection === 'things' && command.ended));
  });

  it('a connection nobody observes sends its commands unobserved, and the driver emits no command events', async () => {
    const quiet = await connectDatabase(mongo.uri, `credence_store_commands_quiet_${process.pid}`);
    try {
      let events = 0;
      quiet.getClient().on('commandStarted', () => events++);
      const reply = await sendStoreCommand(quiet, 'find', 'things', async () => 'answered');
      assert.equal(reply, 'answered');
      await quiet.db?.collection('things').findOne({});
      assert.equal(events, 0, 'monitorCommands stays off');
      assert.equal(take().length, 0, 'observers of another connection hear nothing');
    } finally {
      await quiet.db?.dropDatabase();
      await quiet.close();
    }
  });
});
