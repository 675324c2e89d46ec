import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a log line should carry about the work in progress: the W3C trace
 * context Dapr propagates (traceparent header or CloudEvent field) and, once
 * known, the order the work is about.
 */
export interface RequestContext {
  traceparent?: string;
  tracestate?: string;
  orderId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run({ ...context }, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Adds fields (e.g. the orderId once parsed) to the context of the work in progress. */
export function annotateContext(fields: Partial<RequestContext>): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

/** Splits a traceparent (`00-<trace-id>-<span-id>-<flags>`) into the ids log backends index. */
export function traceFields(context: RequestContext | undefined): Record<string, string> {
  if (!context) return {};
  const fields: Record<string, string> = {};
  if (context.traceparent) {
    const [, traceId, spanId] = context.traceparent.split('-');
    fields.traceparent = context.traceparent;
    if (traceId) fields.traceId = traceId;
    if (spanId) fields.spanId = spanId;
  }
  if (context.orderId) fields.orderId = context.orderId;
  return fields;
}

/** Headers that carry the current trace context on an outgoing call to a sidecar. */
export function traceHeaders(): Record<string, string> {
  const context = storage.getStore();
  const headers: Record<string, string> = {};
  if (context?.traceparent) headers.traceparent = context.traceparent;
  if (context?.tracestate) headers.tracestate = context.tracestate;
  return headers;
}
