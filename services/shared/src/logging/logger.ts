import { format } from 'node:util';
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

/**
 * Sends what libraries print with `console` into the service's JSON log, in the current trace and
 * order context. @dapr/dapr 3.x's workflow worker and client log through its ConsoleLoggerService,
 * and its durabletask loggers take no options to hand them another service; their per-step chatter
 * goes to debug, their warnings and errors stay what they are. Returns what puts `console` back, for
 * a process that routes it only for a while (the bench's workflow floor).
 */
export function routeConsoleTo(logger: Logger): () => void {
  const saved = { ...console };
  const chatter = (...args: unknown[]) => {
    // Formatted only when kept: the workflow SDK prints several lines per work item.
    if (logger.isLevelEnabled('debug')) logger.debug({ source: 'console' }, format(...args));
  };
  console.log = chatter;
  console.info = chatter;
  console.debug = chatter;
  console.warn = (...args: unknown[]) => {
    logger.warn({ source: 'console' }, format(...args));
  };
  console.error = (...args: unknown[]) => {
    logger.error({ source: 'console' }, format(...args));
  };
  return () => {
    Object.assign(console, saved);
  };
}
