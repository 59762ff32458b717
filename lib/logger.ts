import { pino, type Logger } from 'pino';

/**
 * Operational logs: structured JSON on stderr. They carry no personal data and no query
 * variables; accountability records go to the access log instead.
 */
export function createLogger(name: string): Logger {
  return pino({
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: name },
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' },
  }, pino.destination(2));
}

export type { Logger };
