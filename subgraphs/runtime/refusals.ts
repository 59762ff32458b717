/**
 * The checks every department makes of its arguments, refused with a coded error of the registry
 * (lib/error-registry.ts). Bad input always names the argument or input
 * field at fault in `extensions.field`.
 */
import { codedError, ErrorCode } from '../../lib/error-registry.ts';

/** Largest page a department answers (`first`). */
const MAX_PAGE_SIZE = 500;

/** A page size (`first`): 1 to MAX_PAGE_SIZE. */
export function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE)
    throw codedError(ErrorCode.BAD_USER_INPUT, `"first" must be from 1 to ${MAX_PAGE_SIZE}.`, { field: 'first' });
  return first;
}

/** A decision, case or listing number: trimmed, 1 to 100 characters. */
export function recordNumber(value: string, field: string, noun: string): string {
  const number = value.trim();
  if (number.length === 0 || number.length > 100)
    throw codedError(ErrorCode.BAD_USER_INPUT, `The ${noun.toLowerCase()} number must have 1 to 100 characters.`, {
      field: field,
    });
  return number;
}

/** A required free-text field, trimmed. */
export function requiredText(value: string, field: string): string {
  const text = value.trim();
  if (text.length === 0) throw codedError(ErrorCode.BAD_USER_INPUT, `"${field}" must not be empty.`, { field: field });
  return text;
}

/** An amount in CNY: 0 or more. */
export function nonNegative(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0)
    throw codedError(ErrorCode.BAD_USER_INPUT, `"${field}" must be 0 or more.`, { field: field });
  return value;
}

/** A date a department states about the past (a decision, a listing, a removal). */
export function notInFuture(date: Date, field: string, now: Date): Date {
  if (date > now) throw codedError(ErrorCode.BAD_USER_INPUT, `"${field}" cannot be in the future.`, { field: field });
  return date;
}
