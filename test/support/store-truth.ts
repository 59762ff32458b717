/**
 * Ground truth read from the store itself, with the driver, never through the gateway or a
 * department: the records each subject has, by the fields that decide who sees them. A test that
 * takes the test inspector's answers as the truth checks them against this first, so data lost
 * on the way (the same way for every consumer) cannot hide.
 */
import assert from 'node:assert/strict';
import { connectDatabase, departmentDatabaseName } from '../../lib/stores/mongo.ts';
import { seedSubject } from '../../subgraphs/runtime/seed-subjects.ts';
import { recordStateFields } from '../oracle/oracle.ts';

/** Each record list of a subject: where its records are stored. */
export const STORED_RECORD_LISTS = {
  abnormalOperations: { type: 'AbnormalOperationEntry', department: 'registry', collection: 'abnormal_operations' },
  dishonestDebtorEntries: { type: 'DishonestDebtorEntry', department: 'judicial', collection: 'debtor_entries' },
  consumptionRestrictions: {
    type: 'ConsumptionRestrictionOrder',
    department: 'judicial',
    collection: 'consumption_restrictions',
  },
  taxViolations: { type: 'TaxViolationCase', department: 'tax', collection: 'violation_cases' },
  administrativePenalties: { type: 'AdministrativePenalty', department: 'penalties', collection: 'penalties' },
  seriousDishonestyListings: { type: 'SeriousDishonestyListing', department: 'credit', collection: 'listings' },
} as const;
export type StoredRecordList = keyof typeof STORED_RECORD_LISTS;

function shown(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (value === null || value === undefined) return '-';
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** A record's state as one line: its start, end, restoration and severity fields, in the matrix's order. */
export function recordSignature(type: string, record: Readonly<Record<string, unknown>>): string {
  return recordStateFields(type)
    .map((field) => `${field}=${shown(record[field])}`)
    .join(' ');
}

/** uscc → record list → the sorted signatures of the stored records. */
export async function storedRecordSignatures(mongoUri: string): Promise<Map<string, Map<StoredRecordList, string[]>>> {
  const bySubject = new Map<string, Map<StoredRecordList, string[]>>();
  for (const [list, { type, department, collection }] of Object.entries(STORED_RECORD_LISTS) as [
    StoredRecordList,
    (typeof STORED_RECORD_LISTS)[StoredRecordList],
  ][]) {
    const connection = await connectDatabase(mongoUri, departmentDatabaseName(department));
    try {
      for (const document of await connection.collection(collection).find({}).toArray()) {
        const uscc = String(document.uscc);
        const lists = bySubject.get(uscc) ?? new Map<StoredRecordList, string[]>();
        bySubject.set(uscc, lists);
        lists.set(list, [...(lists.get(list) ?? []), recordSignature(type, document)].sort());
      }
    } finally {
      await connection.close();
    }
  }
  return bySubject;
}

/**
 * Fails unless the test inspector's answers (uscc → subject, every field) are what the seed
 * generator made and the store holds, for the first `count` seeded subjects.
 */
export async function assertInspectorHoldsTheTruth(
  mongoUri: string,
  answers: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  count: number,
): Promise<void> {
  const stored = await storedRecordSignatures(mongoUri);
  for (let index = 0; index < count; index++) {
    const seeded = seedSubject(index);
    const answered = answers.get(seeded.uscc);
    assert.ok(answered, `the inspector answered ${seeded.uscc}`);
    assert.deepEqual(
      { name: answered.name, legalRepresentative: answered.legalRepresentative },
      { name: seeded.name, legalRepresentative: { ...seeded.legalRepresentative } },
      `inspector ${seeded.uscc}: the seed generator's subject`,
    );
    for (const [list, { type }] of Object.entries(STORED_RECORD_LISTS) as [
      StoredRecordList,
      (typeof STORED_RECORD_LISTS)[StoredRecordList],
    ][]) {
      const records: unknown = answered[list];
      assert.ok(Array.isArray(records), `inspector ${seeded.uscc}.${list} is a list`);
      const got: string[] = records.map((record) => recordSignature(type, record as Record<string, unknown>)).sort();
      assert.deepEqual(
        got,
        stored.get(seeded.uscc)?.get(list) ?? [],
        `inspector ${seeded.uscc}.${list}: the store's records`,
      );
    }
  }
}
