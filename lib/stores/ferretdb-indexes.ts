/**
 * Indexes FerretDB on PostgreSQL can use. FerretDB 1.x turns an equality filter into
 * `_jsonb->$1 @> $2`, the field name a parameter, and the btree expression index it builds for a
 * declared index (`(_jsonb->'field')`) serves neither that operator nor a parameterised field: every
 * find was a sequential scan, its cost growing with the register (FerretDB/FerretDB#4646, #4209).
 * A GIN index on the same expression serves `@>` once the planner sees the field's name, which
 * it does with custom plans (`plan_cache_mode=force_custom_plan`, set on FerretDB's connection
 * URL by ferretdb.ts).
 *
 * So for each collection FerretDB keeps in the given PostgreSQL, the leading field of every index
 * the models declare (and `_id`) gets a GIN index on that expression, next to FerretDB's own. Only
 * top-level fields: FerretDB pushes no dotted path down. Idempotent: run it after the
 * departments have created their indexes, and again after a large seed (it also refreshes the
 * tables' statistics) or whenever a collection may be new.
 *
 * Equality only: `$in`, `$or` and ranges are not pushed down by FerretDB 1.x at all, so the
 * loaders (subgraphs/runtime/loaders.ts) ask FerretDB one equality per key.
 *
 * Without a pending list (`fastupdate = off`): by default a GIN index takes new rows into an
 * unsorted pending list, which every search through the index then reads in full, until VACUUM
 * (or the list reaching 4 MB) merges it. After a seed of 18,000 subjects, tables held 90,000
 * pending rows, read by every lookup: the store's CPU per request doubled from 2,000 to 100,000
 * subjects. Without the list, each insert updates the index itself, and a lookup costs the same
 * whatever was written last; an index made with a list by an earlier version is switched and
 * its list merged here.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

/** FerretDB's description of one collection, from `<schema>._ferretdb_database_metadata`. */
interface CollectionMetadata {
  _id: string;
  table: string;
  indexes?: { name: string; key: Record<string, number> }[];
}

export interface MirroredIndex {
  schema: string;
  collection: string;
  field: string;
  index: string;
}

/** PostgreSQL's names are at most 63 bytes: a readable prefix and a hash keep them unique. */
function ginIndexName(table: string, field: string): string {
  const digest = createHash('sha256').update(`${table}\0${field}`).digest('hex').slice(0, 8);
  return `${table.slice(0, 32)}_${field.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 16)}_${digest}_gin`;
}

const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** The fields worth a GIN index: `_id` and the leading field of each declared index, top-level only. */
function leadingFields(metadata: CollectionMetadata): string[] {
  const fields = new Set(['_id']);
  for (const index of metadata.indexes ?? []) {
    const [first] = Object.keys(index.key);
    if (first !== undefined && !first.includes('.')) fields.add(first);
  }
  return [...fields];
}

/**
 * Creates the missing GIN indexes for every FerretDB collection in the schemas (FerretDB's
 * databases) whose name starts with `schemaPrefix`, but those named in `exceptSchemas`; returns
 * the ones it created.
 */
export async function mirrorIndexesForFerretdb(
  postgresUrl: string,
  schemaPrefix: string,
  exceptSchemas: readonly string[] = [],
): Promise<MirroredIndex[]> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    const schemas = await client.query<{ schema: string }>(
      `SELECT table_schema AS schema FROM information_schema.tables
        WHERE table_name = '_ferretdb_database_metadata' AND starts_with(table_schema, $1)`,
      [schemaPrefix],
    );
    // By schema and name: FerretDB names a collection's table the same in every database.
    const existing = new Set(
      (
        await client.query<{ schemaname: string; indexname: string }>(
          'SELECT schemaname, indexname FROM pg_indexes WHERE starts_with(schemaname, $1)',
          [schemaPrefix],
        )
      ).rows.map(({ schemaname, indexname }) => `${schemaname}.${indexname}`),
    );
    const created: MirroredIndex[] = [];
    for (const { schema } of schemas.rows.filter((row) => !exceptSchemas.includes(row.schema))) {
      const collections = await client.query<{ metadata: CollectionMetadata }>(
        `SELECT _jsonb AS metadata FROM ${quoteIdentifier(schema)}._ferretdb_database_metadata`,
      );
      for (const { metadata } of collections.rows) {
        const table = `${quoteIdentifier(schema)}.${quoteIdentifier(metadata.table)}`;
        const fields = leadingFields(metadata);
        for (const field of fields.filter(
          (candidate) => !existing.has(`${schema}.${ginIndexName(metadata.table, candidate)}`),
        )) {
          const index = ginIndexName(metadata.table, field);
          await client.query(
            `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(index)} ON ${table} USING gin ((_jsonb -> ${quoteLiteral(field)})) WITH (fastupdate = off)`,
          );
          created.push({ schema, collection: metadata._id, field, index });
        }
        for (const field of fields) {
          const index = `${quoteIdentifier(schema)}.${quoteIdentifier(ginIndexName(metadata.table, field))}`;
          await client.query(`ALTER INDEX ${index} SET (fastupdate = off)`);
          await client.query(`SELECT gin_clean_pending_list(${quoteLiteral(index)}::regclass)`);
        }
        // Fresh statistics, so the planner takes the indexes at once rather than after autovacuum:
        // planned with the row count of a register ten times smaller, an equality can still scan.
        await client.query(`ANALYZE ${table}`);
      }
    }
    return created;
  } finally {
    await client.end();
  }
}
