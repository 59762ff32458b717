import { connectDatabase, departmentDatabaseName } from '../../lib/stores/mongo.ts';
import { departments } from '../../subgraphs/departments.ts';

/**
 * Drops every department database of this test process (the prefix is per process), so a shared
 * server keeps nothing; `extra` names departments a test added (a scaffolded one).
 */
export async function dropDepartmentDatabases(
  mongoUri: string,
  extra: readonly { name: string }[] = [],
): Promise<void> {
  for (const { name } of [...departments, ...extra]) {
    const connection = await connectDatabase(mongoUri, departmentDatabaseName(name));
    await connection.dropDatabase();
    await connection.close();
  }
}
