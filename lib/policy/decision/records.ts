/**
 * Record types: the list entries, cases and penalties whose visibility depends on their state
 * (current, ended, restored) and on public disclosure windows. Each is described by the names of
 * its GraphQL fields, so that the state of a record is read the same way in every department.
 */
import type { RecordRule } from './model.ts';

export interface RecordTypeDescription {
  /** The date the record starts from (its disclosure window starts there too). */
  startField: string;
  /** A date field set when the record ended (removed, lifted); absent if the type has none. */
  endField?: string;
  /** A date field set when credit restoration was approved. */
  restoredField?: string;
  /** An enum field whose value selects the disclosure window (penalties' severity). */
  severityField?: string;
}

export const RECORD_TYPES: Readonly<Record<string, RecordTypeDescription>> = {
  AbnormalOperationEntry: { startField: 'listedOn', endField: 'removedOn' },
  DishonestDebtorEntry: { startField: 'listedOn', endField: 'removedOn' },
  ConsumptionRestrictionOrder: { startField: 'issuedOn', endField: 'liftedOn' },
  TaxViolationCase: { startField: 'decidedOn' },
  AdministrativePenalty: { startField: 'decidedOn', restoredField: 'restoredOn', severityField: 'severity' },
  SeriousDishonestyListing: { startField: 'listedOn', endField: 'removedOn', restoredField: 'restoredOn' },
};

export function isRecordType(typeName: string): boolean {
  return Object.hasOwn(RECORD_TYPES, typeName);
}

/**
 * Public disclosure windows in days from the record's start *(secondary source: NDRC Order 36)*.
 * Keyed by severity where the type has one, else `default`. 0 means never published.
 */
export interface DisclosureWindows {
  bySeverity: Readonly<Record<string, number>>;
  /** Window for record types without a severity (for example tax cases): 3 years. */
  default: number;
}

export const DEFAULT_DISCLOSURE_WINDOWS: DisclosureWindows = {
  bySeverity: { MINOR: 0, GENERAL: 365, SERIOUS: 3 * 365 },
  default: 3 * 365,
};

const DAY_MS = 86_400_000;

function dateOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Date) && typeof value !== 'string' && typeof value !== 'number') return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Whether a consumer with this record rule may see this record now. Computed at query time from
 * the record itself, so a window closes on time without any nightly job.
 */
export function isRecordVisible(
  typeName: string,
  record: Readonly<Record<string, unknown>>,
  rule: RecordRule,
  now: Date,
  windows: DisclosureWindows = DEFAULT_DISCLOSURE_WINDOWS,
): boolean {
  const description = RECORD_TYPES[typeName];
  if (!description) return true;
  const ended = description.endField ? dateOf(record[description.endField]) : null;
  const restored = description.restoredField ? dateOf(record[description.restoredField]) : null;
  const current = (!ended || ended > now) && (!restored || restored > now);
  if (!current && !rule.history) return false;
  if (rule.disclosureWindow) {
    // Public display: never for ended or restored records, whatever the history setting.
    if (!current) return false;
    const start = dateOf(record[description.startField]);
    if (!start) return false;
    const severity = description.severityField ? String(record[description.severityField]) : undefined;
    const days = severity !== undefined ? (windows.bySeverity[severity] ?? 0) : windows.default;
    if (now.getTime() >= start.getTime() + days * DAY_MS) return false;
  }
  return true;
}
