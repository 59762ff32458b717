/**
 * MongoDB-compatible storage: MONGODB_URI when given, otherwise an embedded server started by
 * the project itself (FerretDB where Go is present, else mongodb-memory-server).
 */
import mongoose, { type Connection, type Schema } from 'mongoose';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharedSettings } from '../config/shared.ts';
import { createLogger, type Logger } from '../logger.ts';
import { chooseFerretdbBackend, hasGo, startFerretdb, type EmbeddedMongo } from './ferretdb.ts';
import { mirrorIndexesForFerretdb, type MirroredIndex } from './ferretdb-indexes.ts';
import { freePort } from './net.ts';
import { guardAgainstStuckChecks } from './stuck-check.ts';

export interface MongoServer {
  uri: string;
  /** What runs, in words, for start-up messages. */
  description: string;
  /** True when this process started the server (and so stops it). */
  embedded: boolean;
  /**
   * Gives the store the indexes its queries can use, after the departments have declared theirs:
   * on FerretDB over PostgreSQL, GIN twins of the declared indexes (ferretdb-indexes.ts);
   * elsewhere nothing is needed. Idempotent; returns what it created. `except` names departments
   * whose databases are left as they are (the access log: written on every request, read rarely,
   * it would pay an index update per record for queries that are not on any request's path).
   */
  adaptIndexes(options?: { except?: readonly string[] }): Promise<MirroredIndex[]>;
  stop(): Promise<void>;
}

const NOTHING_TO_ADAPT = async (): Promise<MirroredIndex[]> => [];

export async function startMongo(options: { dataDir: string; log: Logger; port?: number }): Promise<MongoServer> {
  const configured = sharedSettings().mongoUri;
  if (configured)
    return {
      uri: configured,
      description: 'MONGODB_URI',
      embedded: false,
      adaptIndexes: NOTHING_TO_ADAPT,
      stop: async () => {},
    };
  const port = options.port ?? (await freePort());
  let server: EmbeddedMongo;
  if (await hasGo()) {
    server = await startWorkingFerretdb({ dataDir: join(options.dataDir, 'ferretdb'), port, log: options.log });
  } else {
    options.log.warn('Go not found: starting mongodb-memory-server instead of FerretDB');
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    // mongodb-memory-server reads the folder before mongod would create it: it must exist.
    const dbPath = join(options.dataDir, 'mongod');
    await mkdir(dbPath, { recursive: true });
    const memory = await MongoMemoryServer.create({ instance: { port, ip: '127.0.0.1', dbPath } });
    server = {
      uri: memory.getUri(),
      description: 'mongodb-memory-server',
      stop: async () => void (await memory.stop()),
    };
  }
  const { postgresUrl } = server;
  const adaptIndexes = postgresUrl
    ? (adapt: { except?: readonly string[] } = {}) =>
        mirrorIndexesForFerretdb(
          postgresUrl,
          departmentDatabaseName(''),
          (adapt.except ?? []).map(departmentDatabaseName),
        )
    : NOTHING_TO_ADAPT;
  return { uri: server.uri, description: server.description, embedded: true, adaptIndexes, stop: server.stop };
}

/**
 * FerretDB on the backend of choice, checked with a real command: a PostgreSQL that accepts
 * connections but refuses FerretDB (authentication, say) falls back to SQLite with a warning.
 */
async function startWorkingFerretdb(options: { dataDir: string; port: number; log: Logger }): Promise<EmbeddedMongo> {
  const { ferretdb } = sharedSettings();
  const backend = await chooseFerretdbBackend(ferretdb);
  const server = await startFerretdb({ ...options, backend });
  const client = new mongoose.mongo.MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db('admin').command({ listDatabases: 1 });
    return server;
  } catch (error) {
    await server.stop();
    if (backend.handler === 'sqlite' || ferretdb.postgresqlUrl) throw error;
    options.log.warn({ reason: (error as Error).message }, 'FerretDB cannot use the local PostgreSQL; using SQLite');
    return startFerretdb({ ...options, backend: { handler: 'sqlite' } });
  } finally {
    await client.close();
  }
}

/**
 * Opens one department's own database. Each department gets its own connection (not the
 * mongoose default), so several departments can share a process in tests without sharing state.
 */
export async function connectDatabase(
  uri: string,
  dbName: string,
  settings: {
    serverSelectionTimeoutMS?: number;
    log?: Logger;
    /**
     * Emit the driver's command events (commandStarted...), for tests that count store commands
     * (metrics and spans time commands themselves: lib/observability/store-commands.ts).
     * Off by default: each event copies the command and decodes the whole reply a second time,
     * which was several per cent of a department's CPU per call.
     */
    monitorCommands?: boolean;
  } = {},
): Promise<Connection> {
  const { log = createLogger('store'), ...overrides } = settings;
  const options = {
    dbName,
    monitorCommands: false,
    serverSelectionTimeoutMS: 5000,
    maxPoolSize: 20,
    ...overrides,
    // While the store is down, an operation fails after server selection (STORE_UNAVAILABLE)
    // instead of waiting in mongoose's buffer; the driver reconnects by itself when it returns.
    bufferCommands: false,
    // Bounds each of the driver's checks of the store (30 s by default): a check left waiting on
    // a connection the store accepted while going down ends sooner, and one running past this
    // bound is stuck (stuck-check.ts).
    connectTimeoutMS: 10_000,
    heartbeatFrequencyMS: 10_000,
  };
  const connection = mongoose.createConnection(uri, options);
  // Filters built from user input can never smuggle query operators such as $ne or $where.
  connection.set('sanitizeFilter', true);
  await connection.asPromise();
  guardAgainstStuckChecks(connection, { uri, options, log });
  return connection;
}

/** The database name of a department: one database per department, as in production. */
export function departmentDatabaseName(department: string): string {
  return `${sharedSettings().mongoDbPrefix}${department}`;
}

/**
 * The longest one store query of a department may run (the server's maxTimeMS): well inside the
 * gateway's time for a department call, so that one operation's expensive query ends as that
 * operation's error instead of holding the department until the gateway gives up on it.
 */
export const STORE_QUERY_TIME_LIMIT_MS = 5000;

/** Sets maxTimeMS on every read of the models `connection` compiles from now on, unless a query sets its own. */
export function limitQueryTime(connection: Connection, maxTimeMS = STORE_QUERY_TIME_LIMIT_MS): void {
  connection.plugin((schema: Schema) => {
    schema.pre(['find', 'findOne', 'countDocuments', 'distinct'], function setTimeLimit() {
      if (this.getOptions().maxTimeMS === undefined) this.maxTimeMS(maxTimeMS);
    });
  });
}

const ferretdbConnections = new WeakMap<Connection, Promise<boolean>>();

/**
 * Whether the connection's server is FerretDB (its buildInfo names a FerretDB version), asked once
 * per connection: some filters MongoDB serves from an index FerretDB 1.x evaluates by scanning
 * (`$in`), so code that queries by many keys asks differently (subgraphs/runtime/loaders.ts).
 */
export function isFerretdb(connection: Connection): Promise<boolean> {
  let answer = ferretdbConnections.get(connection);
  if (!answer) {
    const { db } = connection;
    answer = db
      ? db
          .admin()
          .command({ buildInfo: 1 })
          .then(
            (info) => typeof info.ferretdbVersion === 'string',
            () => false,
          )
      : Promise.resolve(false);
    ferretdbConnections.set(connection, answer);
  }
  return answer;
}
