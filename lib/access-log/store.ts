/**
 * Where the access log lives: the database of the `audit` department (`credence_audit`, or the
 * prefix of MONGODB_DB_PREFIX), read by the audit subgraph and written only by gateways.
 */
import type { Collection, Connection } from 'mongoose';
import { connectDatabase, departmentDatabaseName } from '../stores/mongo.ts';
import type { AccessLogRecord, Checkpoint, PruneMark } from './record.ts';

export const ACCESS_LOG_DEPARTMENT = 'audit';

export const ACCESS_LOG_COLLECTIONS = {
  records: 'access_records',
  checkpoints: 'access_checkpoints',
  prunes: 'access_prunes',
} as const;

/** Acknowledged by a majority of the replica set, from their journals: a record survives a crash. */
export const DURABLE_WRITE = { writeConcern: { w: 'majority' as const, j: true } };

export function accessLogDatabaseName(): string {
  return departmentDatabaseName(ACCESS_LOG_DEPARTMENT);
}

export interface AccessLogCollections {
  connection: Connection;
  records: Collection<AccessLogRecord>;
  checkpoints: Collection<Checkpoint>;
  prunes: Collection<PruneMark>;
  close(): Promise<void>;
}

/**
 * Opens the access log's database. Server selection fails fast (the gateway answers nothing
 * while the log cannot be written, so it should learn that quickly), and the driver keeps
 * reconnecting by itself when the store returns.
 */
export async function connectAccessLogStore(
  uri: string,
  options: { serverSelectionTimeoutMs?: number } = {},
): Promise<AccessLogCollections> {
  const connection = await connectDatabase(uri, accessLogDatabaseName(), {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 2000,
  });
  // Collections without models: records are written exactly as sealed, without mongoose's casting.
  return {
    connection,
    records: connection.collection<AccessLogRecord>(ACCESS_LOG_COLLECTIONS.records),
    checkpoints: connection.collection<Checkpoint>(ACCESS_LOG_COLLECTIONS.checkpoints),
    prunes: connection.collection<PruneMark>(ACCESS_LOG_COLLECTIONS.prunes),
    close: () => connection.close(),
  };
}
