/**
 * The guard against the driver's stuck server checks (lib/stores/stuck-check.ts). The driver's
 * defect itself (a check waiting for ever on a socket the store closed mid-write) depends on a
 * race and is exercised by test/faults.test.ts; here a check is held for real on a stalled
 * connection to a real store, and the guard is told a bound shorter than the driver's own, so
 * that it finds the check stuck before the driver would give up on it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import mongoose, { type Connection } from 'mongoose';
import { createLogger } from '../lib/logger.ts';
import { startMongo, type MongoServer } from '../lib/stores/mongo.ts';
import { guardAgainstStuckChecks, isStuck } from '../lib/stores/stuck-check.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const TIMINGS = { connectTimeoutMS: 10_000, heartbeatFrequencyMS: 10_000 };

describe('a server check is stuck once it runs past every bound the driver puts on it', () => {
  it('a polled check: connectTimeoutMS plus two seconds of slack', () => {
    assert.equal(isStuck({ startedAt: 0, awaited: false }, TIMINGS, 12_000), false);
    assert.equal(isStuck({ startedAt: 0, awaited: false }, TIMINGS, 12_001), true);
  });
  it('an awaited (streaming) check may also wait heartbeatFrequencyMS for news', () => {
    assert.equal(isStuck({ startedAt: 0, awaited: true }, TIMINGS, 22_000), false);
    assert.equal(isStuck({ startedAt: 0, awaited: true }, TIMINGS, 22_001), true);
  });
  it('no check running is never stuck', () => {
    assert.equal(isStuck(undefined, TIMINGS, Number.MAX_SAFE_INTEGER), false);
  });
});

describe('a client whose check is stuck is replaced, and the connection answers again', () => {
  let dataDir: string;
  let store: MongoServer;
  let proxy: TcpProxy;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'credence-stuck-'));
    store = await startMongo({ dataDir, log: createLogger('test') });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(store.uri).port) });
  });
  after(async () => {
    await proxy.close();
    await store.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  // Waits for the replacement without a clock of its own; the harness stops a wait that never ends.
  it(
    'replaces the client with a new one on the same URI; models and collections carry over',
    { timeout: 60_000 },
    async () => {
      const uri = proxy.through(store.uri);
      // Checks every 200 ms, each allowed 10 s by the driver; the guard is told 100 ms (its bound is
      // then about 2.3 s with the awaited check's 200 ms and its 2 s of slack).
      const options = {
        dbName: `credence_stuck_${process.pid}`,
        bufferCommands: false,
        serverSelectionTimeoutMS: 5000,
        connectTimeoutMS: 10_000,
        heartbeatFrequencyMS: 200,
      };
      const connection: Connection = await mongoose.createConnection(uri, options).asPromise();
      const things = connection.model('Thing', new mongoose.Schema({ _id: String, name: String }));
      await things.create({ _id: 'a', name: 'kept' });
      guardAgainstStuckChecks(connection, {
        uri,
        options,
        timings: { connectTimeoutMS: 100, heartbeatFrequencyMS: 200 },
        log: createLogger('test'),
        pollMs: 100,
      });
      const stuckClient = connection.getClient();

      // Every connection open now hangs, the monitor's among them; new connections pass.
      proxy.stall();
      while (connection.getClient() === stuckClient || connection.readyState !== mongoose.ConnectionStates.connected)
        await sleep(100);
      assert.equal((await things.findById('a').lean())?.name, 'kept');
      await things.create({ _id: 'b', name: 'written after' });
      assert.equal(await things.countDocuments(), 2);
      await connection.dropDatabase();
      await connection.close();
    },
  );

  it('a connection its owner closes while the client is being replaced stays closed', async () => {
    const uri = proxy.through(store.uri);
    const options = {
      dbName: `credence_stuck_owner_${process.pid}`,
      bufferCommands: false,
      serverSelectionTimeoutMS: 5000,
      connectTimeoutMS: 10_000,
      heartbeatFrequencyMS: 200,
    };
    const owned = await mongoose.createConnection(uri, options).asPromise();
    guardAgainstStuckChecks(owned, {
      uri,
      options,
      timings: { connectTimeoutMS: 100, heartbeatFrequencyMS: 200 },
      log: createLogger('test'),
      pollMs: 20,
    });

    // The guard's own close of the stuck client is the moment the owner closes too.
    const replacing = once(owned, 'disconnecting', { signal: AbortSignal.timeout(15_000) });
    proxy.stall();
    await replacing;
    let reopened = false;
    owned.on('connected', () => void (reopened = true));
    await owned.close();
    // The owner's close waits for the replacement; a reopen behind its back would come at once.
    await sleep(1000);
    assert.equal(reopened, false, 'the guard opened the connection again after its owner closed it');
    assert.equal(owned.readyState, mongoose.ConnectionStates.disconnected);
  });
});
