/**
 * Searching the access log: filters on request id, consumer, purpose, subject, field, outcome and
 * time, newest first,
 * in pages with an opaque cursor; and the subject access report. Only ACCESS records are
 * searched (chain starts and withheld markers are for verification). Records are shaped for the
 * schema here, once per record, so that no per-row resolver runs.
 */
import { trusted } from 'mongoose';
import { assertUscc, codedError, ErrorCode } from '../../lib/error-registry.ts';
import { withKey } from '../runtime/loaders.ts';
import { pageSize } from '../runtime/refusals.ts';
import type { AccessOutcome } from '../../lib/access-log/record.ts';
import type { AccessRecordDocument, AuditModels } from './models.ts';

export interface AccessLogFilter {
  consumer?: string | null;
  purpose?: string | null;
  subject?: string | null;
  field?: string | null;
  from?: Date | null;
  to?: Date | null;
  requestId?: string | null;
  outcome?: AccessOutcome | null;
}

export interface AccessRecordValue extends Omit<AccessRecordDocument, 'fields'> {
  id: string;
  fields: { type: string; fields: string[] }[];
}

export const MAX_REPORT = 5000;
const FIELD_COORDINATE = /^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * Pages run newest first by instant, and records of one instant by id. Ids are unique, so the
 * order is total: a cursor (its page's last record) names one place in it, and the next page
 * starts strictly after that place, so records sharing an instant are neither skipped nor
 * repeated.
 */
const NEWEST_FIRST = { at: -1, _id: -1 } as const;

function shape(document: AccessRecordDocument): AccessRecordValue {
  const byType = new Map<string, string[]>();
  for (const coordinate of document.fields) {
    const [type = '', field = ''] = coordinate.split('.');
    byType.set(type, [...(byType.get(type) ?? []), field]);
  }
  return { ...withKey(document, 'id'), fields: [...byType].map(([type, fields]) => ({ type, fields })) };
}

interface Cursor {
  at: Date;
  id: string;
}

function encodeCursor(record: AccessRecordDocument): string {
  return Buffer.from(JSON.stringify([record.at.toISOString(), record._id])).toString('base64url');
}

/** The records after the cursor's in NEWEST_FIRST order. */
function strictlyAfter(cursor: Cursor): Record<string, unknown> {
  return { $or: [{ at: trusted({ $lt: cursor.at }) }, { at: cursor.at, _id: trusted({ $lt: cursor.id }) }] };
}

function decodeCursor(raw: string): Cursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    if (typeof id === 'string' && typeof at === 'string' && !Number.isNaN(date.getTime())) return { at: date, id };
  } catch {
    // answered below
  }
  throw codedError(
    ErrorCode.BAD_USER_INPUT,
    '"after" is not a cursor of the access log: pass the endCursor of a page.',
    { field: 'after' },
  );
}

function filterQuery(filter: AccessLogFilter | null | undefined): Record<string, unknown> {
  const query: Record<string, unknown> = { kind: 'ACCESS' };
  if (!filter) return query;
  if (filter.requestId) query.requestId = filter.requestId;
  if (filter.outcome) query.outcome = filter.outcome;
  if (filter.consumer) query.consumer = filter.consumer;
  if (filter.purpose) query.purpose = filter.purpose;
  if (filter.subject) query.subjects = assertUscc(filter.subject, 'filter.subject');
  if (filter.field) {
    if (!FIELD_COORDINATE.test(filter.field))
      throw codedError(
        ErrorCode.BAD_USER_INPUT,
        '"filter.field" must be written Type.field, for example Subject.name.',
        { field: 'filter.field' },
      );
    query.fields = filter.field;
  }
  if (filter.from || filter.to) {
    if (filter.from && filter.to && filter.from >= filter.to)
      throw codedError(ErrorCode.BAD_USER_INPUT, '"filter.from" must be before "filter.to".', { field: 'filter.from' });
    query.at = trusted({ ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) });
  }
  return query;
}

export async function accessLogPage(
  models: AuditModels,
  args: { filter?: AccessLogFilter | null; first?: number | null; after?: string | null },
): Promise<{ records: AccessRecordValue[]; cursors: string[]; endCursor: string | null; hasNextPage: boolean }> {
  const first = pageSize(args.first ?? 50);
  const query = { ...filterQuery(args.filter), ...(args.after ? strictlyAfter(decodeCursor(args.after)) : {}) };
  // One record more than the page: the next page exists only if that record does.
  const documents = await models.AccessRecord.find(query)
    .sort(NEWEST_FIRST)
    .limit(first + 1)
    .lean<AccessRecordDocument[]>();
  const page = documents.slice(0, first);
  const last = page.at(-1);
  return {
    records: page.map(shape),
    cursors: page.map(encodeCursor),
    endCursor: last ? encodeCursor(last) : null,
    hasNextPage: documents.length > first,
  };
}

export async function subjectAccessReport(
  models: AuditModels,
  uscc: string,
): Promise<{ uscc: string; consumers: string[]; accesses: AccessRecordValue[]; truncated: boolean }> {
  assertUscc(uscc);
  const documents = await models.AccessRecord.find({ kind: 'ACCESS', subjects: uscc })
    .sort({ at: 1, _id: 1 })
    .limit(MAX_REPORT + 1)
    .lean<AccessRecordDocument[]>();
  const accesses = documents.slice(0, MAX_REPORT);
  return {
    uscc,
    consumers: [...new Set(accesses.map(({ consumer }) => consumer))].sort(),
    // Each access names only this subject: the other subjects a request touched are not the
    // business of a report about this one (PIPL art. 45 is about the subject's own data).
    accesses: accesses.map((document) => ({ ...shape(document), subjects: [uscc] })),
    truncated: documents.length > MAX_REPORT,
  };
}
