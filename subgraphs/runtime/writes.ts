/**
 * How a department records a decision, and removes it from its list when the law says so: only
 * record types the national catalog lists for this department (R1), once, by the department that
 * made the decision. One decision is one document written by one insert or one conditional
 * update, so it is stored whole or not at all (FerretDB 1.x needs no transaction for that), and
 * sending it again is harmless. Nothing is ever deleted: a removal is dated and reasoned.
 */
import type { Model, QueryFilter } from 'mongoose';
import type { CatalogItem } from '../../lib/policy/reference/catalog.ts';
import { outsideCompetence, type Competence } from '../../lib/policy/decision/competence.ts';
import { ErrorCode, codedError } from '../../lib/error-registry.ts';
import type { PolicyContext } from './enforcement.ts';
import { notInFuture } from './refusals.ts';

/** What a write reads from its request: who writes and when, and the catalog in force. */
export interface WriteContext extends PolicyContext {
  /** Each record type's item in the catalog in force, resolved when the subgraph started (R1). */
  catalogItems: ReadonlyMap<string, CatalogItem>;
  /** What the calling consumer may record, in whose name (its policy entry's competence). */
  competence?: Competence | undefined;
}

/** A decision document: its number (or its issuer and number) is its `_id`; `recordedBy` is the consumer (department) that recorded it. */
export interface RecordedDocument {
  _id: string;
  recordedBy?: string;
}

/** A list entry that can leave its list: when it was listed, and the date and legal ground on which it left. */
export interface RemovableDocument extends RecordedDocument {
  listedOn: Date;
  removedOn: Date | null;
  removalReason?: string | null;
}

/** Which record a write is about, for the catalog check and for messages. */
export interface RecordKind {
  /** The GraphQL type of the record, as the catalog names it in `recordType`. */
  recordType: string;
  /** The subgraph writing it: the catalog names the department each item comes from. */
  department: string;
  /** The kind of number, for messages: "Decision", "Case", "Listing". */
  noun: string;
}

export interface RecordOnceOptions<T extends RecordedDocument> extends RecordKind {
  model: Model<T>;
  document: T;
  /** Whether a stored document is the same decision as the one being recorded. */
  same: (stored: T, document: T) => boolean;
  /** The number as the department wrote it, for messages (default: the `_id`). */
  number?: string;
}

/**
 * The legal grounds on which an entry may leave its list, by what it was listed for: the entry's
 * field that says so, and the grounds that answer each of its values.
 */
export interface RemovalGrounds<T> {
  field: keyof T & string;
  byValue: Readonly<Record<string, readonly string[]>>;
}

export interface RemoveOnceOptions<T extends RemovableDocument> extends RecordKind {
  model: Model<T>;
  id: string;
  removedOn: Date;
  reason: string;
  /** Absent when any ground of the list may apply. */
  grounds?: RemovalGrounds<T>;
}

/** An entry made in error leaves its list whatever it was listed for. */
const LISTED_IN_ERROR = 'LISTED_IN_ERROR';

/**
 * R1: records may only be included on the basis of the national catalog. The record type must be
 * an item's `recordType`, that item must come from the writing department, and when the item
 * lists the kinds it includes (a listing's list type, a penalty's category), the record must be
 * of one of them; otherwise the write is refused with NOT_IN_CATALOG before anything is written.
 */
export function assertCatalogued(
  { recordType, department }: RecordKind,
  catalogItems: WriteContext['catalogItems'],
  record?: object,
): CatalogItem {
  const item = catalogItems.get(recordType);
  if (!item) {
    throw codedError(
      ErrorCode.NOT_IN_CATALOG,
      `${recordType} records are not in the national catalog, so they cannot be recorded (R1).`,
      { recordType },
    );
  }
  if (item.department !== department) {
    throw codedError(
      ErrorCode.NOT_IN_CATALOG,
      `The national catalog lists ${recordType} records (item ${item.code}) as coming from ${item.department}, not ${department} (R1).`,
      {
        recordType,
        catalogItem: item.code,
      },
    );
  }
  const kind = item.kinds && record ? (record as Record<string, unknown>)[item.kinds.field] : undefined;
  if (item.kinds && typeof kind === 'string' && !item.kinds.values.includes(kind)) {
    throw codedError(
      ErrorCode.NOT_IN_CATALOG,
      `The national catalog in force does not include ${kind} in item ${item.code}, so it cannot be recorded (R1).`,
      {
        recordType,
        catalogItem: item.code,
        [item.kinds.field]: kind,
      },
    );
  }
  return item;
}

/** OUTSIDE_COMPETENCE when the record is not the calling consumer's to make (its policy's competence). */
export function assertWithinCompetence(recordType: string, record: object, competence: Competence | undefined): void {
  const reason = outsideCompetence(competence, recordType, record);
  if (reason) throw codedError(ErrorCode.OUTSIDE_COMPETENCE, reason, { recordType });
}

/**
 * How a refusal names the record: by its number when the caller sent it, else only by what the
 * caller did send (`described`), so that a refusal never tells a department a record it did not name.
 */
interface RecordNamed {
  noun: string;
  described?: string;
}

/**
 * The stored record `id`, which the calling department must have recorded. Another department's
 * record is answered as one that does not exist (RECORD_NOT_FOUND, the same words), so that no
 * answer tells a department whether another's number exists.
 */
export async function ownRecord<T extends RecordedDocument>(
  model: Model<T>,
  id: string,
  named: RecordNamed & { number?: string },
  context: Pick<PolicyContext, 'view'>,
): Promise<T> {
  const stored = await model.findById(id).lean<T>();
  if (!stored || stored.recordedBy !== context.view.consumer) {
    const number = named.number ?? id;
    throw named.described
      ? codedError(ErrorCode.RECORD_NOT_FOUND, `${named.described} is not recorded.`)
      : codedError(ErrorCode.RECORD_NOT_FOUND, `No ${named.noun.toLowerCase()} ${number} is recorded.`, { number });
  }
  return stored;
}

/**
 * Sets `changes` on `stored` by one update conditional on its `field` still being null, so that of
 * two concurrent changes only the first applies; returns the record as it then stands.
 */
export async function updateOnce<T extends RecordedDocument>(
  model: Model<T>,
  stored: T,
  field: keyof T & string,
  changes: Partial<T>,
): Promise<T> {
  const { matchedCount } = await model.updateOne({ _id: stored._id, [field]: null } as QueryFilter<T>, {
    $set: changes,
  });
  if (matchedCount > 0) return { ...stored, ...changes };
  return (await model.findById(stored._id).lean<T>()) ?? stored;
}

/** Records `document`, or returns the stored one when it is the same decision by the same department. */
export async function recordOnce<T extends RecordedDocument>(
  { model, document, same, number = document._id, ...kind }: RecordOnceOptions<T>,
  context: WriteContext,
): Promise<T> {
  assertCatalogued(kind, context.catalogItems, document);
  assertWithinCompetence(kind.recordType, document, context.competence);
  // A number already recorded, by this department with other content or by another department,
  // gets one answer: it does not say whose the record is.
  const settle = (stored: T): T => {
    if (stored.recordedBy === context.view.consumer && same(stored, document)) return stored;
    throw codedError(
      ErrorCode.DUPLICATE_DECISION_NUMBER,
      `${kind.noun} number ${number} is already recorded with different content.`,
      { number },
    );
  };
  const stored = await model.findById(document._id).lean<T>();
  if (stored) return settle(stored);
  try {
    await model.create(document);
  } catch (error) {
    // Two submissions of one number at once: the one that lost reads what the other stored.
    if ((error as { code?: number }).code !== 11000) throw error;
    const winner = await model.findById(document._id).lean<T>();
    if (!winner) throw error;
    return settle(winner);
  }
  return document;
}

/**
 * Removes an entry from its list: sets `removedOn` and `removalReason`, once. Removing it again on
 * the same date for the same reason returns it unchanged; a different removal of an entry already
 * removed is refused (ALREADY_REMOVED), also when a concurrent removal won the race.
 */
export async function removeOnce<T extends RemovableDocument>(
  { model, id, removedOn, reason, grounds, ...kind }: RemoveOnceOptions<T>,
  context: WriteContext,
): Promise<T> {
  assertCatalogued(kind, context.catalogItems);
  notInFuture(removedOn, 'removedOn', context.now);
  const settled = (entry: T): T => {
    if (
      !entry.removedOn ||
      (new Date(entry.removedOn).getTime() === removedOn.getTime() && entry.removalReason === reason)
    )
      return entry;
    throw codedError(
      ErrorCode.ALREADY_REMOVED,
      `${kind.noun} ${id} was already removed on ${new Date(entry.removedOn).toISOString().slice(0, 10)}.`,
      { number: id },
    );
  };
  const stored = await ownRecord(model, id, kind, context);
  if (stored.removedOn) return settled(stored);
  if (removedOn < stored.listedOn)
    throw codedError(ErrorCode.BAD_USER_INPUT, 'An entry cannot be removed before it was listed.', {
      field: 'removedOn',
    });
  const allowed = grounds && [...(grounds.byValue[String(stored[grounds.field])] ?? []), LISTED_IN_ERROR];
  if (allowed && !allowed.includes(reason)) {
    throw codedError(
      ErrorCode.REMOVAL_NOT_ALLOWED,
      `This entry may leave its list only for ${allowed.join(' or ')}, not ${reason}.`,
      { allowedReasons: allowed },
    );
  }
  return settled(await updateOnce(model, stored, 'removedOn', { removedOn, removalReason: reason } as Partial<T>));
}
