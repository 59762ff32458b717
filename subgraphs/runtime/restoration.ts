/**
 * Who may be restored (R5, R6), the same for every department that restores: never the
 * particularly serious kinds of case, and no record before its minimum publication period has
 * passed. The settings come from restoration-settings.ts.
 */
import type { GraphQLError } from 'graphql';
import { restorationSettings } from './config.ts';
import { codedError, ErrorCode } from '../../lib/error-registry.ts';

const DAY_MS = 86_400_000;

/** What the rules need to know of a record a subject asks to have restored. */
export interface RestorationCase {
  /** The field that says what kind of case the record is (listType, category), and its value. */
  kind: { field: string; value: string };
  /** The records in words, for messages: "listings", "penalties". */
  records: string;
  /** Why the record cannot be restored whatever its kind and age (it is no longer in force, it was never published); undefined when it can. */
  ineligible?: string;
  /** When its publication began, and how many days it must stay published before restoration. */
  publishedOn: Date;
  minimumDays: number;
}

/** NOT_RESTORABLE when the case is of a kind never restored (R6); undefined otherwise. */
export function nonRestorableRefusal({
  kind,
  records,
}: Pick<RestorationCase, 'kind' | 'records'>): GraphQLError | undefined {
  if (!restorationSettings().nonRestorable.has(kind.value)) return undefined;
  return codedError(
    ErrorCode.NOT_RESTORABLE,
    `${kind.value} ${records} are particularly serious cases that are not restored; their history stays findable (R6).`,
    {
      [kind.field]: kind.value,
    },
  );
}

/** Why the record cannot be restored at `now` (NOT_RESTORABLE, NOT_ELIGIBLE, TOO_EARLY with the day it can), or undefined when it can. */
export function restorationRefusal(record: RestorationCase, now: Date): GraphQLError | undefined {
  const excluded = nonRestorableRefusal(record);
  if (excluded) return excluded;
  if (record.ineligible) return codedError(ErrorCode.NOT_ELIGIBLE, record.ineligible);
  const eligibleFrom = new Date(record.publishedOn.getTime() + record.minimumDays * DAY_MS);
  if (eligibleFrom <= now) return undefined;
  const day = eligibleFrom.toISOString().slice(0, 10);
  return codedError(
    ErrorCode.TOO_EARLY,
    `Restoration is possible once the minimum publication period has passed, from ${day}.`,
    { eligibleFrom: day },
  );
}
