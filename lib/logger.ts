import { pino, type Logger } from 'pino';
import { sharedSettings } from './config/shared.ts';
import { logCorrelation } from './observability/tracing.ts';

/**
 * Operational logs: structured JSON on stderr. They carry no personal data and no query
 * variables; accountability records go to the access log instead (lib/access-log/).
 *
 * Two guards, so that a careless log call cannot leak what the code never meant to log:
 * - fields that hold personal data or query input (`uscc`, `variables`, `idNumber`, `phone`,
 *   `subjects`, credentials), at the top level or one level down, are redacted by name;
 * - every string written (messages, error messages and stacks, any field) is scrubbed of what
 *   looks like a Unified Social Credit Code, a resident ID number or a mobile phone number: a
 *   database error quoting a duplicate key, say.
 *
 * A line written while a request is handled names its request id and trace id (with tracing on:
 * lib/observability/tracing.ts), so that one request's lines can be found in every process.
 */
const REDACTED = '[redacted]';

const PERSONAL_KEYS = ['uscc', 'variables', 'idNumber', 'phone', 'subjects'];
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  ...PERSONAL_KEYS.flatMap((key) => [key, `*.${key}`]),
];

/** USCC (18 characters, registration department and type, 6-digit division, ...), resident ID, mobile phone. */
const PERSONAL_PATTERNS = [
  /\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b/g,
  /\b\d{17}[\dXx]\b/g,
  /(?<!\d)1[3-9]\d{9}(?!\d)/g,
];

export function scrubPersonalData(text: string): string {
  return PERSONAL_PATTERNS.reduce((scrubbed, pattern) => scrubbed.replace(pattern, REDACTED), text);
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubPersonalData(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return scrubValue(pino.stdSerializers.err(value), depth + 1);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubValue(item, depth + 1)]));
}

export function createLogger(name: string): Logger {
  return pino(
    {
      name,
      level: sharedSettings().logLevel,
      base: { service: name },
      mixin: logCorrelation,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      formatters: { log: (object) => scrubValue(object, 0) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrubPersonalData(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
    },
    pino.destination(2),
  );
}

export type { Logger };
