import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  accessControlFor,
  EDGE_APP_ID,
  internalRoutes,
  publishingScopes,
} from '@ecom/shared/access/who-may-call';
import { daprComponents } from '@ecom/shared/dapr/components';
import { outboxTopicsOf } from '@ecom/shared/dapr/outbox-stores';
import { loadStackSettings, localOutboxStores } from '../../../stack/src/stack';
import { SERVICE_NAMES, type ServiceName } from '../api/ecom-stack';
import { contextFor, externalInfra } from '../testing/fixtures';
import { buildDaprResources, buildSubscriptions, type DaprComponent } from './dapr';
import { renderStack } from './render-stack';
import { APP_NAMES } from './service-catalog';

interface LocalDoc {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
  scopes?: string[];
}

/** The local stack's self-hosted Dapr resources (dapr-components/, owned by the local stack). */
const LOCAL_DIR = join(__dirname, '../../../dapr-components');
const local: LocalDoc[] = [
  ...readdirSync(LOCAL_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => load(readFileSync(join(LOCAL_DIR, f), 'utf8')) as LocalDoc),
  // The outbox state stores, which the local stack renders from the same shared description.
  ...localOutboxStores(loadStackSettings()).map((text) => load(text) as LocalDoc),
];
/** Metadata whose value is the environment's own (a local address here, a Secret there). */
const PER_ENVIRONMENT = new Set(['connectionString']);

const placeholder = /^\$\{[A-Z0-9_]+\}$/;
/** Fields the Dapr Resiliency CRD knows for a retry policy (others are dropped by the API server). */
const RETRY_FIELDS = ['policy', 'duration', 'maxInterval', 'maxRetries'];

describe('Dapr resources agree with the local stack (dapr-components/)', () => {
  const ctx = contextFor();
  const rendered = buildDaprResources(ctx);

  it('declares the same components under the names the services use', () => {
    const names = (docs: { kind?: string; metadata?: { name?: string } }[]) =>
      docs
        .filter((d) => d.kind === 'Component')
        .map((d) => d.metadata?.name)
        .sort();
    expect(names(rendered)).toEqual(names(local));
    expect(names(rendered)).toEqual(expect.arrayContaining(Object.values(daprComponents)));
  });

  it.each(local.filter((d) => d.kind === 'Component').map((d) => [d.metadata.name, d] as const))(
    'component %s has the same type, metadata and scopes',
    (name, doc) => {
      const mine = rendered.find((r) => r.kind === 'Component' && r.metadata.name === name) as
        DaprComponent | undefined;
      if (!mine) throw new Error(`operator renders no component ${name}`);
      const spec = doc.spec as {
        type: string;
        version: string;
        metadata: { name: string; value?: string }[];
      };
      expect(mine.spec.type).toBe(spec.type);
      expect(mine.spec.version).toBe(spec.version);
      expect(mine.spec.metadata.map((m) => m.name).sort()).toEqual(spec.metadata.map((m) => m.name).sort());
      for (const item of spec.metadata) {
        const other = mine.spec.metadata.find((m) => m.name === item.name);
        // A ${PLACEHOLDER} is filled per environment: here inline or from a Secret.
        if (item.value !== undefined && (placeholder.test(item.value) || PER_ENVIRONMENT.has(item.name)))
          expect(other?.value ?? other?.secretKeyRef).toBeDefined();
        else expect(other?.value).toBe(item.value);
      }
      expect(mine.scopes).toEqual(doc.scopes ?? [...SERVICE_NAMES]);
    },
  );

  it("gives every app a Configuration with the local stack's tracing and metrics", () => {
    const doc = local.find((d) => d.kind === 'Configuration');
    const mine = rendered.filter((r) => r.kind === 'Configuration') as unknown as {
      metadata: { name: string };
      spec: Record<string, unknown>;
    }[];
    expect(mine.map((c) => c.metadata.name)).toEqual(
      APP_NAMES.map((a) => `${doc?.metadata.name ?? ''}-${a}`),
    );
    for (const c of mine) expect(c.spec).toMatchObject(doc?.spec ?? { missing: true });
  });

  it('uses the same resiliency policies and component targets', () => {
    const doc = local.find((d) => d.kind === 'Resiliency');
    const mine = rendered.find((r) => r.kind === 'Resiliency') as unknown as {
      metadata: { name: string };
      spec: {
        policies: { retries: Record<string, Record<string, unknown>> };
        targets: { components: unknown };
      };
    };
    const spec = doc?.spec as {
      policies: { retries: Record<string, Record<string, unknown>> };
      targets: { components: unknown };
    };
    expect(mine.metadata.name).toBe(doc?.metadata.name);
    for (const [policy, retry] of Object.entries(spec.policies.retries)) {
      const known = Object.fromEntries(Object.entries(retry).filter(([k]) => RETRY_FIELDS.includes(k)));
      expect(mine.spec.policies.retries[policy]).toMatchObject(known);
    }
    expect(mine.spec.targets.components).toEqual(spec.targets.components);
  });

  it('retries calls between services only when the callee is unreachable, and breaks no circuit', () => {
    const mine = rendered.find((r) => r.kind === 'Resiliency') as unknown as {
      spec: {
        policies: { retries: Record<string, { matching?: unknown }>; circuitBreakers?: unknown };
        targets: { apps: Record<string, Record<string, string>> };
      };
    };
    // Without `matching`, Dapr retries every non-2xx answer: a 409 or a 400 five times over.
    expect(mine.spec.policies.retries.serviceCall?.matching).toEqual({
      httpStatusCodes: '502-504',
      gRPCStatusCodes: '14',
    });
    // A breaker counts an app's 4xx answers as failures: a few bad requests would cut a service off.
    expect(mine.spec.policies.circuitBreakers).toBeUndefined();
    for (const target of Object.values(mine.spec.targets.apps)) expect(target.circuitBreaker).toBeUndefined();
  });
});

interface Configuration {
  metadata: { name: string };
  spec: {
    accessControl: {
      defaultAction: string;
      trustDomain: string;
      policies: {
        appId: string;
        defaultAction: string;
        namespace: string;
        trustDomain: string;
        operations: { name: string; httpVerb: string[]; action: string }[];
      }[];
    };
  };
}

describe('Dapr resources', () => {
  const ctx = contextFor();
  const objs = renderStack(ctx);
  const configurations = objs.filter((o) => o.kind === 'Configuration') as unknown as Configuration[];
  const configOf = (d: V1Deployment) => {
    const name = d.spec?.template.metadata?.annotations?.['dapr.io/config'];
    const found = configurations.find((c) => c.metadata.name === name);
    if (!found) throw new Error(`no Configuration ${name ?? '(none)'}`);
    return found;
  };
  const deployments = objs.filter((o) => o.kind === 'Deployment') as unknown as V1Deployment[];

  it('names its own Configuration in every app Deployment, denying by default', () => {
    expect(deployments).toHaveLength(APP_NAMES.length);
    const seen = new Set<string>();
    for (const d of deployments) {
      const app = d.spec?.template.metadata?.annotations?.['dapr.io/app-id'] ?? '';
      const config = configOf(d);
      seen.add(config.metadata.name);
      expect(config.metadata.name).toBe(`ecom-config-${app}`);
      const acl = config.spec.accessControl;
      expect([acl.defaultAction, acl.trustDomain]).toEqual(['deny', 'public']);
      for (const policy of acl.policies) {
        expect(policy).toMatchObject({ defaultAction: 'deny', trustDomain: 'public', namespace: 'prod' });
        expect(APP_NAMES).toContain(policy.appId);
        expect(policy.operations.length).toBeGreaterThan(0);
        for (const op of policy.operations) expect(op.action).toBe('allow');
      }
    }
    expect(seen.size).toBe(APP_NAMES.length);
  });

  it('answers the edge on public routes only, internal routes only their callers, and nobody on the edge', () => {
    for (const d of deployments) {
      const app = d.spec?.template.metadata?.annotations?.['dapr.io/app-id'] ?? '';
      const acl = configOf(d).spec.accessControl;
      if (app === EDGE_APP_ID) {
        expect(acl.policies).toEqual([]);
        continue;
      }
      expect(acl).toEqual(accessControlFor(app as ServiceName, { trustDomain: 'public', namespace: 'prod' }));
      const edge = acl.policies.find((p) => p.appId === EDGE_APP_ID);
      expect(edge?.operations.map((o) => o.name)).toEqual(expect.arrayContaining(['/healthz']));
      for (const op of edge?.operations ?? []) expect(op.name).not.toMatch(/^\/internal\//);
      // Each internal caller of this service has a policy of its own (what it allows: who-may-call's spec).
      const callers = new Set(internalRoutes.filter((r) => r.callee === app).flatMap((r) => r.callers));
      for (const caller of callers) expect(acl.policies.map((p) => p.appId)).toContain(caller);
    }
  });

  it('lets each app publish its own events only, the edge none', () => {
    const pubsub = objs.find((o) => o.kind === 'Component' && o.metadata.name === 'pubsub') as DaprComponent;
    const scopes = pubsub.spec.metadata.find((m) => m.name === 'publishingScopes')?.value ?? '';
    expect(scopes).toBe(publishingScopes((app) => outboxTopicsOf(app, ctx.namespace)));
    const byApp: Record<string, string> = Object.fromEntries(
      scopes.split(';').map((entry): [string, string] => {
        const [app = '', topics = ''] = entry.split('=');
        return [app, topics];
      }),
    );
    expect(Object.keys(byApp).sort()).toEqual([...APP_NAMES].sort());
    expect(byApp.edge).toBe('');
    expect(byApp.order?.split(',')).toContain('order_created');
    // Dapr's outbox publishes through its internal topic first, under the same scopes.
    expect(byApp.order?.split(',')).toContain(`${ctx.namespace}orderorder_createdoutbox`);
    expect(byApp.saga?.split(',')).not.toContain('order_created');
  });

  it('gives the edge no component, and its calls the same resiliency as the services', () => {
    for (const c of objs.filter((o) => o.kind === 'Component') as DaprComponent[])
      expect(c.scopes).not.toContain(EDGE_APP_ID);
    const resiliency = objs.find((o) => o.kind === 'Resiliency') as unknown as { scopes: string[] };
    expect(resiliency.scopes).toEqual([...APP_NAMES]);
  });

  it('reads external connection details from the referenced Secrets', () => {
    const rendered = buildDaprResources(contextFor({ infrastructure: externalInfra }));
    const pubsub = rendered.find((r) => r.metadata.name === 'pubsub') as DaprComponent;
    expect(pubsub.spec.metadata.find((m) => m.name === 'brokers')).toEqual({
      name: 'brokers',
      secretKeyRef: { name: 'kafka-conn', key: 'brokers' },
    });
    const actors = rendered.find((r) => r.metadata.name === 'actorstate') as DaprComponent;
    expect(actors.spec.metadata.find((m) => m.name === 'connectionString')?.secretKeyRef).toEqual({
      name: 'pg-conn',
      key: 'saga',
    });
  });

  it('renders declarative subscriptions from the spec', () => {
    const subs = buildSubscriptions(
      contextFor({
        dapr: {
          subscriptions: [
            {
              name: 'audit',
              topic: 'order_paid',
              app: 'notification',
              route: '/audit',
              deadLetterTopic: 'dlq',
            },
          ],
        },
      }),
    );
    expect(subs).toEqual([
      expect.objectContaining({
        apiVersion: 'dapr.io/v2alpha1',
        kind: 'Subscription',
        spec: {
          pubsubname: 'pubsub',
          topic: 'order_paid',
          routes: { default: '/audit' },
          deadLetterTopic: 'dlq',
        },
        scopes: ['notification'],
      }),
    ]);
  });
});
