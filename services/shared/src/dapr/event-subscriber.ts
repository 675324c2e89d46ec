import type { Express, Request } from 'express';
import { deadLetterTopic, eventSchemas, type EventName, type EventPayload } from '../events/catalogue';
import type { Logger } from '../logging/logger';
import { annotateContext, runWithContext } from '../logging/request-context';
import { daprComponents } from './components';

export type EventHandler<K extends EventName> = (event: EventPayload<K>) => Promise<void>;

interface Registration {
  name: EventName;
  route: string;
  handle: (data: unknown) => Promise<void>;
}

/**
 * Programmatic Dapr subscriptions for the catalogue's events. A handler gets the
 * validated payload; it must be idempotent (delivery is at-least-once). A payload
 * that fails its schema is dropped to the dead-letter topic instead of being
 * retried forever; a handler error asks Dapr to retry.
 */
export class EventSubscriber {
  private readonly registrations: Registration[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly pubsub: string = daprComponents.pubsub,
  ) {}

  on<K extends EventName>(name: K, handler: EventHandler<K>): this {
    const schema = eventSchemas[name];
    this.registrations.push({
      name,
      route: `/events/${name}`,
      handle: async (data) => {
        await handler(schema.parse(data) as EventPayload<K>);
      },
    });
    return this;
  }

  get topics(): EventName[] {
    return this.registrations.map((r) => r.name);
  }

  mount(app: Express): void {
    app.get('/dapr/subscribe', (_req, res) => {
      res.json(
        this.registrations.map((r) => ({
          pubsubname: this.pubsub,
          topic: r.name,
          route: r.route,
          deadLetterTopic: deadLetterTopic(r.name),
          metadata: {},
        })),
      );
    });
    for (const registration of this.registrations) {
      app.post(registration.route, async (req, res) => {
        const cloudEvent = req.body as {
          data?: unknown;
          id?: string;
          traceparent?: string;
          traceid?: string;
          tracestate?: string;
        };
        const data = cloudEvent.data;
        const orderId = isRecord(data) && typeof data.orderId === 'string' ? data.orderId : undefined;
        // The delivery's own request log line names the order too.
        if (orderId) annotateContext({ orderId });
        const status = await runWithContext(
          {
            // An empty field counts as absent (Dapr's outbox writes `traceparent: ""` and the trace in `traceid`).
            traceparent: cloudEvent.traceparent || cloudEvent.traceid || headerOf(req, 'traceparent'),
            tracestate: cloudEvent.tracestate || headerOf(req, 'tracestate'),
            orderId,
          },
          () => this.dispatch(registration, data),
        );
        res.status(200).json({ status });
      });
    }
  }

  private async dispatch(registration: Registration, data: unknown): Promise<'SUCCESS' | 'RETRY' | 'DROP'> {
    const parsed = eventSchemas[registration.name].safeParse(data);
    if (!parsed.success) {
      this.logger.error(
        { topic: registration.name, issues: parsed.error.issues },
        'event does not match its schema; dropped',
      );
      return 'DROP';
    }
    const payload: Record<string, unknown> = parsed.data;
    if (typeof payload.orderId === 'string') annotateContext({ orderId: payload.orderId });
    try {
      await registration.handle(parsed.data);
      return 'SUCCESS';
    } catch (error) {
      this.logger.warn({ err: error, topic: registration.name }, 'event handler failed; Dapr will retry');
      return 'RETRY';
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function headerOf(req: Request, name: string): string | undefined {
  return req.header(name) ?? undefined;
}
