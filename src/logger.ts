import pino from 'pino';
import type { LogLevel } from './config/config';

export type Logger = pino.Logger;

/**
 * JSON logs. What goes in them is chosen field by field at each call site: ids, operation names,
 * codes and timings, never names, dates of birth, responses or document text. `redact` is a second
 * line of defence for the fields most likely to slip in.
 */
/**
 * A client-controlled string (operation name, user agent) as it may appear in a log line: cut to a
 * few hundred characters, so a client cannot make every line it causes as large as it likes.
 */
export function clip(value: string | undefined, max = 200): string | undefined {
  return value === undefined || value.length <= max ? value : `${value.slice(0, max)}…`;
}

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['*.authorization', '*.token', '*.variables', '*.firstName', '*.lastName', '*.dateOfBirth'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
