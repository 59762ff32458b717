/**
 * Competence: which records a writing consumer may make, in whose name. A department records only
 * as the authorities it represents, only the kinds of record within its remit (a penalty's
 * category, a listing's list type), and lists only on basis documents of the issuers it may act
 * on. The policy states it per consumer (`competence:` in policies/*.yaml); every department
 * checks it before anything is written (subgraphs/runtime/writes.ts), refusing OUTSIDE_COMPETENCE.
 */

/** Where each written record type names its authority, its kind and its basis document. */
export interface WrittenRecordFields {
  /** The field naming the authority that decided (a penalty's authority, a court). */
  authority?: string;
  /** The enum field whose value is the record's kind (category, list type). */
  kind?: string;
  /** The field holding the basis document, whose issuer (`issuedBy`) must be one the consumer may act on. */
  basis?: string;
}

export const WRITTEN_RECORDS: Readonly<Record<string, WrittenRecordFields>> = {
  AdministrativePenalty: { authority: 'authority', kind: 'category' },
  SeriousDishonestyListing: { kind: 'listType', basis: 'basis' },
  DishonestDebtorEntry: { authority: 'court', basis: 'basis' },
  TaxViolationCase: { kind: 'violationType', basis: 'decision' },
  AbnormalOperationEntry: { authority: 'listedBy', kind: 'reason' },
};

/** What one record type is within a consumer's competence. */
export interface RecordCompetence {
  /** The kinds it may record; every kind when the record type has none. */
  kinds?: readonly string[];
  /** Whose basis documents it may record on (its own authorities unless the policy names others). */
  basisIssuers: readonly string[];
}

export interface Competence {
  /** The authorities the consumer represents. */
  authorities: readonly string[];
  /** The record types it may record; none other. */
  records: ReadonlyMap<string, RecordCompetence>;
}

/** Why `record` of `recordType` is outside `competence` (a sentence for the consumer), or undefined when it is within. */
export function outsideCompetence(
  competence: Competence | undefined,
  recordType: string,
  record: object,
): string | undefined {
  const allowed = competence?.records.get(recordType);
  if (!competence || !allowed) return `Your policy does not let you record ${recordType} records.`;
  const fields = WRITTEN_RECORDS[recordType] ?? {};
  const value = (field: string | undefined): unknown =>
    field ? (record as Record<string, unknown>)[field] : undefined;
  const authority = value(fields.authority);
  if (fields.authority && !competence.authorities.includes(String(authority))) {
    return `You may record only in the name of ${competence.authorities.join(', ')}, not ${String(authority)}.`;
  }
  const kind = value(fields.kind);
  if (fields.kind && allowed.kinds && !allowed.kinds.includes(String(kind))) {
    return `${String(kind)} is not within your competence for ${recordType} records (${allowed.kinds.join(', ')}).`;
  }
  const basis = value(fields.basis) as { issuedBy?: unknown } | undefined;
  if (fields.basis && basis && !allowed.basisIssuers.includes(String(basis.issuedBy))) {
    return `You may record ${recordType} records only on basis documents of ${allowed.basisIssuers.join(', ')}, not ${String(basis.issuedBy)}.`;
  }
  return undefined;
}
