import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_DATE.test(value) || Number.isNaN(Date.parse(value))) {
    throw new GraphQLError('A Date must be a string of the form YYYY-MM-DD.', { extensions: { code: 'BAD_USER_INPUT' } });
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
    if (ast.kind !== Kind.STRING) throw new GraphQLError('A Date must be a string of the form YYYY-MM-DD.', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDate(ast.value);
  },
});
