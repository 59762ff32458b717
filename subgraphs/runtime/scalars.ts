import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { codedError, ErrorCode } from '../../lib/error-registry.ts';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_DATE.test(value) || Number.isNaN(Date.parse(value))) {
    throw codedError(ErrorCode.BAD_USER_INPUT, 'A Date must be a string of the form YYYY-MM-DD.');
  }
  return new Date(`${value}T00:00:00Z`);
}

/** Calendar dates, stored as UTC midnight and exchanged as YYYY-MM-DD. */
export const DateScalar = new GraphQLScalarType<Date, string>({
  name: 'Date',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('Stored date is invalid.');
    return date.toISOString().slice(0, 10);
  },
  parseValue: parseDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING)
      throw codedError(ErrorCode.BAD_USER_INPUT, 'A Date must be a string of the form YYYY-MM-DD.');
    return parseDate(ast.value);
  },
});

/** ISO 8601 with a time zone (Z or ±hh:mm), to the millisecond at most. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' && ISO_INSTANT.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw codedError(
      ErrorCode.BAD_USER_INPUT,
      'A DateTime must be an ISO 8601 instant with its time zone, for example 2026-11-27T08:30:00Z.',
    );
  }
  return date;
}

/** Instants, exchanged in ISO 8601 (UTC on output). */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('Stored instant is invalid.');
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    return parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined);
  },
});
