/**
 * An access-log store of a test's own, reached through a TCP proxy the test can cut, and the
 * access entry the writer's tests append: shared by the writer's tests (access-log-writer.test.ts)
 * and the journal's (access-log-journal.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../lib/logger.ts';
import { startMongo } from '../../lib/stores/mongo.ts';
import { connectAccessLogStore, type AccessLogCollections } from '../../lib/access-log/store.ts';
import type { AccessEntry } from '../../lib/access-log/record.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

/** One answered request's entry, told apart by its request id. */
export const accessEntry = (requestId: string): AccessEntry => ({
  at: new Date(),
  requestId,
  consumer: 'central-bank',
  purpose: 'CREDIT_ASSESSMENT',
  policyVersion: 'test',
  operationName: null,
  operationHash: '0'.repeat(64),
  outcome: 'ANSWERED',
  fields: ['Subject.name'],
  subjects: ['91350100M000100Y43'],
  deniedFields: [],
  maskedFields: [],
  durationMs: 1,
});

export interface ProxiedAccessLogStore {
  store: AccessLogCollections;
  proxy: TcpProxy;
  /** The store's own address, not through the proxy. */
  uri: string;
  /** A folder of the test's own, removed with the store. */
  dataDir: string;
  close(): Promise<void>;
}

/** An embedded store in a fresh folder, databases prefixed with `prefix`, the access log's collections through a proxy. */
export async function startProxiedAccessLogStore(prefix: string, log: Logger): Promise<ProxiedAccessLogStore> {
  process.env.LOG_LEVEL = 'silent';
  process.env.MONGODB_DB_PREFIX = `${prefix}_${process.pid}_`;
  const dataDir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const mongo = await startMongo({ dataDir: join(dataDir, 'store'), log });
  const target = new URL(mongo.uri.replace(/^mongodb:/, 'http:'));
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  const store = await connectAccessLogStore(proxy.through(mongo.uri), { serverSelectionTimeoutMs: 500 });
  return {
    store,
    proxy,
    uri: mongo.uri,
    dataDir,
    async close() {
      await proxy.restore();
      await store.connection.dropDatabase();
      await store.close();
      await proxy.close();
      await mongo.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
