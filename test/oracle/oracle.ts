/**
 * The hand-written access matrix (access-matrix.yaml) as tests read it: what a consumer must see
 * of each `Type.field`, how a masked value must look, which records it must get.
 *
 * Independent of the product on purpose: nothing here imports lib/policy (no compile, no
 * record rules, no masks, no operation walk). Masks and record rules are implemented again here
 * from the matrix's own words, so a test comparing the product with this oracle fails when
 * either the policy or the code that applies it goes wrong. Only the national catalog
 * (schema/catalog.yaml) is read, as data, to know which fields each catalog item names.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const MATRIX_PATH = new URL('./access-matrix.yaml', import.meta.url);
const CATALOG_PATH = new URL('../../schema/catalog.yaml', import.meta.url);
const DAY_MS = 86_400_000;

export type ExpectedEffect = 'allow' | 'mask' | 'deny';

export interface ExpectedField {
  effect: ExpectedEffect;
  /** The mask's name, when masked. */
  mask?: string;
}

export type RecordRuleName = 'current' | 'history' | 'public-window';

/** What one consumer must see under one purpose, as the matrix says. */
export interface OracleView {
  consumer: string;
  purpose: string;
  /** `consumer/purpose`. */
  key: string;
  mode: 'reject' | 'filter';
  field(typeName: string, fieldName: string): ExpectedField;
  records(typeName: string): RecordRuleName;
}

interface MaskForm {
  keepFirst?: number;
  keepLast?: number;
  replaceWith?: string;
  example: { from: string; to: string };
}

interface RecordTypeForm {
  starts: string;
  endedBy?: string;
  restoredBy?: string;
  windowDays?: number;
  windowDaysBy?: { field: string } & Record<string, number | string>;
}

type ItemDecision = string | { visible?: string[]; denied?: string[]; masked?: Record<string, string> };

interface PurposeForm {
  items: Record<string, ItemDecision>;
  writes: string[];
  records: Record<string, RecordRuleName>;
}

interface Matrix {
  masks: Record<string, MaskForm>;
  recordRules: RecordRuleName[];
  recordTypes: Record<string, RecordTypeForm>;
  consumers: Record<string, { mode: 'reject' | 'filter'; purposes: Record<string, PurposeForm> }>;
}

const matrix = parse(readFileSync(MATRIX_PATH, 'utf8'), { merge: true }) as Matrix;
const catalogItems = (parse(readFileSync(CATALOG_PATH, 'utf8')) as { items: { code: string; fields: string[] }[] })
  .items;

/** The catalog's items, code → `Type.field`s. */
export const CATALOG_FIELDS: ReadonlyMap<string, readonly string[]> = new Map(
  catalogItems.map((item) => [item.code, item.fields]),
);

/** The record types the matrix describes. */
export const ORACLE_RECORD_TYPES: readonly string[] = Object.keys(matrix.recordTypes);

/** The masks the matrix describes, with the example it gives for each. */
export const ORACLE_MASKS: ReadonlyMap<string, { from: string; to: string }> = new Map(
  Object.entries(matrix.masks).map(([name, form]) => [name, form.example]),
);

/** Every consumer and purpose of the matrix. */
export const ORACLE_CONSUMERS: readonly { id: string; mode: 'reject' | 'filter'; purposes: readonly string[] }[] =
  Object.entries(matrix.consumers).map(([id, consumer]) => ({
    id,
    mode: consumer.mode,
    purposes: Object.keys(consumer.purposes),
  }));

function decisionOf(word: string, where: string): ExpectedField {
  if (word === 'visible') return { effect: 'allow' };
  if (word === 'denied') return { effect: 'deny' };
  const masked = /^masked ([A-Z_]+)$/.exec(word);
  if (masked?.[1] && Object.hasOwn(matrix.masks, masked[1])) return { effect: 'mask', mask: masked[1] };
  throw new Error(`access-matrix.yaml: ${where}: "${word}" is not visible, denied or masked <MASK>`);
}

/** The expected decision of every catalog field and every write, for one consumer and purpose. */
function expandPurpose(consumer: string, purpose: string, form: PurposeForm): Map<string, ExpectedField> {
  const fields = new Map<string, ExpectedField>();
  const where = `${consumer} / ${purpose}`;
  for (const [code, itemFields] of CATALOG_FIELDS) {
    const decision = form.items[code];
    if (decision === undefined) throw new Error(`access-matrix.yaml: ${where} does not decide catalog item ${code}`);
    if (typeof decision === 'string') {
      for (const field of itemFields) fields.set(field, decisionOf(decision, `${where} ${code}`));
      continue;
    }
    const named = [
      ...(decision.visible ?? []).map((field) => [field, { effect: 'allow' }] as const),
      ...(decision.denied ?? []).map((field) => [field, { effect: 'deny' }] as const),
      ...Object.entries(decision.masked ?? {}).map(
        ([field, mask]) => [field, decisionOf(`masked ${mask}`, `${where} ${field}`)] as const,
      ),
    ];
    const names = named.map(([field]) => field).sort();
    if (names.join() !== [...itemFields].sort().join()) {
      throw new Error(
        `access-matrix.yaml: ${where} ${code} must name each of its fields once: ${[...itemFields].sort().join(', ')}; it names ${names.join(', ')}`,
      );
    }
    for (const [field, expected] of named) fields.set(field, expected);
  }
  for (const code of Object.keys(form.items)) {
    if (!CATALOG_FIELDS.has(code))
      throw new Error(`access-matrix.yaml: ${where} decides ${code}, which is not a catalog item`);
  }
  for (const write of form.writes) fields.set(`Mutation.${write}`, { effect: 'allow' });
  for (const type of ORACLE_RECORD_TYPES) {
    const rule = form.records[type];
    if (!rule || !matrix.recordRules.includes(rule))
      throw new Error(`access-matrix.yaml: ${where} gives ${type} no record rule of ${matrix.recordRules.join(', ')}`);
  }
  return fields;
}

const views = new Map<string, OracleView>();
for (const [consumer, form] of Object.entries(matrix.consumers)) {
  for (const [purpose, purposeForm] of Object.entries(form.purposes)) {
    const fields = expandPurpose(consumer, purpose, purposeForm);
    views.set(`${consumer}/${purpose}`, {
      consumer,
      purpose,
      key: `${consumer}/${purpose}`,
      mode: form.mode,
      field: (typeName, fieldName) => {
        const expected = fields.get(`${typeName}.${fieldName}`);
        if (expected) return expected;
        // A write the consumer is not given is denied; any other field the matrix must decide.
        if (typeName === 'Mutation') return { effect: 'deny' };
        throw new Error(`access-matrix.yaml: ${typeName}.${fieldName} is in no catalog item`);
      },
      records: (typeName) => {
        const rule = purposeForm.records[typeName];
        if (!rule) throw new Error(`access-matrix.yaml: ${typeName} is not a record type of the matrix`);
        return rule;
      },
    });
  }
}

/** What the matrix says `consumer` sees under `purpose`; undefined when the purpose is not the consumer's. */
export function oracleView(consumer: string, purpose: string): OracleView | undefined {
  return views.get(`${consumer}/${purpose}`);
}

/** The test inspector (test/support/federation.ts): every field in clear, every record. */
export function everythingView(consumer: string, purpose: string): OracleView {
  return {
    consumer,
    purpose,
    key: `${consumer}/${purpose}`,
    mode: 'reject',
    field: () => ({ effect: 'allow' }),
    records: () => 'history',
  };
}

/** A value as the matrix says the mask shows it. */
export function maskedAsDescribed(mask: string, value: string): string {
  const form = matrix.masks[mask];
  if (!form) throw new Error(`access-matrix.yaml describes no mask ${mask}`);
  if (form.replaceWith !== undefined) return form.replaceWith;
  const first = form.keepFirst ?? 0;
  const last = form.keepLast ?? 0;
  const characters = [...value];
  if (characters.length <= first + last) return '*'.repeat(Math.max(characters.length, 1));
  return (
    characters.slice(0, first).join('') +
    '*'.repeat(characters.length - first - last) +
    characters.slice(characters.length - last).join('')
  );
}

function dayOf(value: unknown): number | null {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}

/** Whether a record is in force at `now`: not ended and not restored on or before that moment. */
export function isCurrentAsDescribed(typeName: string, record: Readonly<Record<string, unknown>>, now: Date): boolean {
  const form = matrix.recordTypes[typeName];
  if (!form) throw new Error(`access-matrix.yaml: ${typeName} is not a record type`);
  for (const field of [form.endedBy, form.restoredBy]) {
    if (field === undefined) continue;
    const day = dayOf(record[field]);
    if (day !== null && day <= now.getTime()) return false;
  }
  return true;
}

/** The record's public disclosure window in days, as the matrix gives it. */
export function windowDaysAsDescribed(typeName: string, record: Readonly<Record<string, unknown>>): number {
  const form = matrix.recordTypes[typeName];
  if (!form) throw new Error(`access-matrix.yaml: ${typeName} is not a record type`);
  if (form.windowDays !== undefined) return form.windowDays;
  const by = form.windowDaysBy;
  if (!by) throw new Error(`access-matrix.yaml: ${typeName} has no window`);
  const days = by[String(record[by.field])];
  return typeof days === 'number' ? days : 0;
}

/** Whether a consumer whose record rule is `rule` sees `record` at `now`, as the matrix words it. */
export function isShownAsDescribed(
  typeName: string,
  record: Readonly<Record<string, unknown>>,
  rule: RecordRuleName,
  now: Date,
): boolean {
  if (rule === 'history') return true;
  if (!isCurrentAsDescribed(typeName, record, now)) return false;
  if (rule === 'current') return true;
  const start = dayOf(record[matrix.recordTypes[typeName]?.starts ?? '']);
  const days = windowDaysAsDescribed(typeName, record);
  if (start === null || days === 0) return false;
  return now.getTime() < start + days * DAY_MS;
}

/** The fields of a record type that decide whether it is shown (a test selects them to judge answers). */
export function recordStateFields(typeName: string): string[] {
  const form = matrix.recordTypes[typeName];
  if (!form) throw new Error(`access-matrix.yaml: ${typeName} is not a record type`);
  return [form.starts, form.endedBy, form.restoredBy, form.windowDaysBy?.field].filter(
    (field): field is string => field !== undefined,
  );
}

/** Whether a type is one of the matrix's record types. */
export function isOracleRecordType(typeName: string): boolean {
  return Object.hasOwn(matrix.recordTypes, typeName);
}
