import { connectDatabase, departmentDatabaseName } from '../../lib/stores/mongo.ts';
import { departments } from '../../subgraphs/departments.ts';

/**
 * Every document of every department database, by `department.collection`, in `_id` order: two
 * snapshots are deep-equal exactly when nothing was written, changed or removed in between.
 */
export async function storeSnapshot(mongoUri: string): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const { name } of departments) {
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
