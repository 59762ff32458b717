import { connectDatabase, departmentDatabaseName } from '../../lib/stores/mongo.ts';
import { departments } from '../../subgraphs/departments.ts';

/**
 * Every document of every department's credit data, by `department.collection`, in `_id` order:
 * two snapshots are deep-equal exactly when no credit record was written, changed or removed in
 * between. The access log (the audit department) is left out: it records every request, reads
 * and refusals included, by design.
 */
export async function storeSnapshot(mongoUri: string): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const { name } of departments.filter((department) => department.name !== 'audit')) {
    const connection = await connectDatabase(mongoUri, departmentDatabaseName(name));
    try {
      const db = connection.db;
      if (!db) throw new Error(`no database handle for ${name}`);
      for (const { name: collection } of await db.listCollections().toArray()) {
        snapshot[`${name}.${collection}`] = await db.collection(collection).find({}).sort({ _id: 1 }).toArray();
      }
    } finally {
      await connection.close();
    }
  }
  return snapshot;
}
