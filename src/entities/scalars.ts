import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** A calendar date without time or zone, `YYYY-MM-DD`, e.g. a date of birth. */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date, ISO-8601 `YYYY-MM-DD`.',
  serialize: (value) => String(value),
  parseValue: (value) => parseCalendarDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalid('Date must be a string in YYYY-MM-DD form');
    return parseCalendarDate(ast.value);
  },
});

export function parseCalendarDate(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw invalid('Date must be a string in YYYY-MM-DD form');
  }
  if (!isCalendarDate(value)) throw invalid(`Date ${value} is not a real calendar date`);
  return value;
}

/** Whether `YYYY-MM-DD` names a day that exists (not 31 February). */
function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** An instant, ISO-8601 with offset, always answered in UTC. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant, ISO-8601 with a time zone offset, e.g. `2026-11-23T09:30:00Z`.',
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(String(value));
    return date.toISOString();
  },
  parseValue: (value) => parseInstant(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalid('DateTime must be an ISO-8601 string');
    return parseInstant(ast.value);
  },
});

const INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function parseInstant(value: unknown): Date {
  // An offset is required: a bare local time would be read in the server's zone, silently.
  const match = typeof value === 'string' ? INSTANT.exec(value) : null;
  if (!match) throw invalid('DateTime must be ISO-8601 with a time zone, e.g. 2026-11-23T09:30:00Z');
  const [, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] = match;
  // `Date` would roll 31 February over into March, and 24:00 into tomorrow.
  if (
    !isCalendarDate(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59 ||
    Number(offsetHours) > 23 ||
    Number(offsetMinutes) > 59
  ) {
    throw invalid(`DateTime ${String(value)} is not a real instant`);
  }
  const date = new Date(value as string);
  if (Number.isNaN(date.getTime())) throw invalid(`DateTime ${String(value)} is not a real instant`);
  return date;
}
