/**
 * How a department refuses what it is asked: a coded error a partner agency can act on, and the
 * checks every department makes of its arguments. Bad input always names the argument or input
 * field at fault in `extensions.field`.
 */
import { GraphQLError } from 'graphql';
import { badInput } from '../../lib/errors.ts';

export { badInput };

/** Largest page a department answers (`first`). */
const MAX_PAGE_SIZE = 500;

/** A request refused with its own code (NOT_RESTORABLE, TOO_EARLY, ...), and what the caller needs to act on it. */
export function refused(code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** A page size (`first`): 1 to MAX_PAGE_SIZE. */
export function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) throw badInput(`"first" must be from 1 to ${MAX_PAGE_SIZE}.`, 'first');
  return first;
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
