import pino from 'pino';
import { currentContext, traceFields } from './request-context';

export type Logger = pino.Logger;

/**
 * Structured JSON logs on stdout. Every line carries the service name and, when
 * logged inside a request or event handler, the trace context and order id.
 */
export function createLogger(service: string, level: pino.LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => traceFields(currentContext()),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.refreshToken',
        '*.accessToken',
      ],
      censor: '[redacted]',
    },
  });
}
