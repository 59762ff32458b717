import { Schema, type Connection } from 'mongoose';
import { ACCESS_LOG_COLLECTIONS } from '../../lib/access-log/store.ts';
import type { AccessRecordDocument } from '../../lib/access-log/record.ts';

export type { AccessRecordDocument };

/**
 * The access log as the audit subgraph reads it. Gateways write it (lib/access-log/writer.ts,
 * without mongoose); this model declares the indexes the privacy office's searches and
 * verification use, and is only read through. Its documents are AccessRecordDocument.
 */
function accessRecordModel(connection: Connection) {
  // Untyped on purpose: the stored shape is AccessRecordDocument (lib/access-log/record.ts),
  // and reads say so with lean<AccessRecordDocument[]>().
  const record = new Schema(
    {
      _id: String,
      kind: { type: String, required: true },
      chain: { type: String, required: true },
      seq: { type: Number, required: true },
      instance: { type: String, required: true },
      at: { type: Date, required: true },
      consumer: String,
      purpose: String,
      fields: [String],
      subjects: [String],
    },
    { versionKey: false, strict: false },
  );
  // The privacy office's searches, newest first; verification reads chains in order. No index
  // on `subjects`: FerretDB 1.x on PostgreSQL indexes an array as one value, and a request
  // touching a few hundred subjects exceeds its index row limit, refusing the record.
  record.index({ at: -1, _id: -1 });
  record.index({ consumer: 1, at: -1 });
  record.index({ chain: 1, seq: 1 });
  record.index({ instance: 1, kind: 1, at: -1 });
  return connection.model('AccessRecord', record, ACCESS_LOG_COLLECTIONS.records);
}

export interface AuditModels {
  AccessRecord: ReturnType<typeof accessRecordModel>;
}

export function defineModels(connection: Connection): AuditModels {
  return { AccessRecord: accessRecordModel(connection) };
}
