/**
 * How a department records a decision, and removes it from its list when the law says so: only
 * record types the national catalog lists for this department (R1), once, by the department that
 * made the decision. One decision is one document written by one insert or one conditional
 * update, so it is stored whole or not at all (FerretDB 1.x needs no transaction for that), and
 * sending it again is harmless. Nothing is ever deleted: a removal is dated and reasoned.
 */
import { GraphQLError } from 'graphql';
import type { Model } from 'mongoose';
import { catalogItemForRecordType, loadCatalog, type CatalogItem } from '../../lib/policy/catalog.ts';

/** A decision document: its number is its `_id`; `recordedBy` is the consumer (department) that recorded it. */
export interface RecordedDocument {
  _id: string;
  recordedBy?: string;
}

/** A list entry that can leave its list: the date and the legal ground. */
export interface RemovableDocument extends RecordedDocument {
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
}

export interface RemoveOnceOptions<T extends RemovableDocument> extends RecordKind {
  model: Model<T>;
  id: string;
  removedOn: Date;
  reason: string;
  /** The calling department (consumer id): only the one that recorded the entry removes it. */
  consumer: string;
  now: Date;
  /** When the entry was listed: a removal cannot precede it. */
  listedOn: (stored: T) => Date;
  /** The legal grounds on which this entry may leave its list; undefined when any listed reason may apply. */
  allowedReasons?: (stored: T) => readonly string[];
}

/** A write refused with its own code (NOT_RESTORABLE, TOO_EARLY, ...), and what the caller needs to act on it. */
export function refused(code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

export function badInput(message: string, field: string): GraphQLError {
  return refused('BAD_USER_INPUT', message, { field });
}

/**
 * R1: records may only be included on the basis of the national catalog. The record type must be
 * an item's `recordType`, that item must come from the writing department, and when the item
 * lists the kinds it includes (a listing's list type, a penalty's category), the record must be
 * of one of them; otherwise the write is refused with NOT_IN_CATALOG before anything is written.
 */
export function assertCatalogued({ recordType, department }: RecordKind, record?: object, catalog = loadCatalog()): CatalogItem {
  const item = catalogItemForRecordType(catalog, recordType);
  if (!item) {
    throw refused('NOT_IN_CATALOG', `${recordType} records are not in the national catalog, so they cannot be recorded (R1).`, { recordType });
  }
  if (item.department !== department) {
    throw refused('NOT_IN_CATALOG', `The national catalog lists ${recordType} records (item ${item.code}) as coming from ${item.department}, not ${department} (R1).`, {
      recordType, catalogItem: item.code,
    });
  }
  const kind = item.kinds && record ? (record as Record<string, unknown>)[item.kinds.field] : undefined;
  if (item.kinds && typeof kind === 'string' && !item.kinds.values.includes(kind)) {
    throw refused('NOT_IN_CATALOG', `The national catalog in force does not include ${kind} in item ${item.code}, so it cannot be recorded (R1).`, {
      recordType, catalogItem: item.code, [item.kinds.field]: kind,
    });
  }
  return item;
}

/** A decision, case or listing number: trimmed, 1 to 100 characters. */
export function recordNumber(value: string, field: string, noun: string): string {
  const number = value.trim();
  if (number.length === 0 || number.length > 100) throw badInput(`The ${noun.toLowerCase()} number must have 1 to 100 characters.`, field);
  return number;
}

/** A required free-text field, trimmed. */
export function requiredText(value: string, field: string): string {
  const text = value.trim();
  if (text.length === 0) throw badInput(`"${field}" must not be empty.`, field);
  return text;
}

/** An amount in CNY: 0 or more. */
export function nonNegative(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0) throw badInput(`"${field}" must be 0 or more.`, field);
  return value;
}

/** A date a department states about the past (a decision, a listing, a removal). */
export function notInFuture(date: Date, field: string, now: Date): Date {
  if (date > now) throw badInput(`"${field}" cannot be in the future.`, field);
  return date;
}

function ownerRefusal(stored: RecordedDocument, consumer: string | undefined, noun: string): GraphQLError | undefined {
  if (stored.recordedBy === consumer) return undefined;
  return refused('NOT_RECORD_OWNER', `${noun} ${stored._id} was recorded by another department; only it may write it.`, { number: stored._id });
}

/** Records `document`, or returns the stored one when it is the same decision by the same department. */
export async function recordOnce<T extends RecordedDocument>({ model, document, same, ...kind }: RecordOnceOptions<T>): Promise<T> {
  assertCatalogued(kind, document);
  const settle = (stored: T): T => {
    const error = ownerRefusal(stored, document.recordedBy, kind.noun) ?? (same(stored, document)
      ? undefined
      : refused('DUPLICATE_DECISION_NUMBER', `${kind.noun} number ${document._id} is already recorded with different content.`, { number: document._id }));
    if (error) throw error;
    return stored;
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
 * removed is refused (ALREADY_REMOVED). The update is conditional on the entry still being listed,
 * so two concurrent removals cannot both apply.
 */
export async function removeOnce<T extends RemovableDocument>(options: RemoveOnceOptions<T>): Promise<T> {
  const { model, id, removedOn, reason, consumer, now, noun } = options;
  assertCatalogued(options);
  notInFuture(removedOn, 'removedOn', now);
  const settle = (stored: T): T => {
    const error = ownerRefusal(stored, consumer, noun);
    if (error) throw error;
    if (stored.removedOn) {
      if (new Date(stored.removedOn).getTime() === removedOn.getTime() && stored.removalReason === reason) return stored;
      throw refused('ALREADY_REMOVED', `${noun} ${id} was already removed on ${new Date(stored.removedOn).toISOString().slice(0, 10)}.`, { number: id });
    }
    return stored;
  };
  const stored = await model.findById(id).lean<T>();
  if (!stored) throw refused('RECORD_NOT_FOUND', `No ${noun.toLowerCase()} ${id} is recorded.`, { number: id });
  settle(stored);
  if (stored.removedOn) return stored;
  if (removedOn < options.listedOn(stored)) throw badInput('An entry cannot be removed before it was listed.', 'removedOn');
  const allowed = options.allowedReasons?.(stored);
  if (allowed && !allowed.includes(reason)) {
    throw refused('REMOVAL_NOT_ALLOWED', `This entry may leave its list only for ${allowed.join(' or ')}, not ${reason}.`, { allowedReasons: allowed });
  }
  const removal = { removedOn, removalReason: reason };
  const { matchedCount } = await model.updateOne({ _id: id, removedOn: null }, { $set: removal });
  // Another removal won the race: answer as if it had been stored before this one arrived.
  if (matchedCount === 0) return settle(await model.findById(id).lean<T>() ?? stored);
  return { ...stored, ...removal };
}
