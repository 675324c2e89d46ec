/**
 * Names of the Dapr resources the services address. The YAML in dapr-components/
 * (and the operator's builders) declare the same names; a unit test in the
 * stack package checks they agree.
 */
export const daprComponents = {
  /** pubsub.kafka: every event of the catalogue. */
  pubsub: 'pubsub',
  /** state.postgresql holding workflow/actor state (the saga's sidecar only). */
  actorStateStore: 'actorstate',
} as const;

/**
 * The Dapr features every sidecar's Configuration sets. HotReload is on by default in Dapr 1.18: a
 * changed Component is closed and opened again inside the running sidecar. Dapr's outbox subscribes
 * to its internal topics once, when the sidecar starts, so reloading the pub/sub component ends that
 * subscription for good and every later event waits in the internal topic (measured here: a changed
 * `publishingScopes` stopped order_created until order's sidecar restarted). Off, a sidecar reads its
 * Components when it starts: the operator rolls the pods whose Dapr resources changed; locally,
 * `restart <service>` or the next `npm start` picks a change up.
 */
export const daprFeatures: readonly { name: string; enabled: boolean }[] = [
  { name: 'HotReload', enabled: false },
];

/**
 * How long Dapr Workflow keeps an ended saga's own state (its history and metadata in the actor
 * state store) before it purges it, by how the workflow ended (Go durations). Kept forever, it grows
 * by about 5 KB per order (8 rows) and never shrinks. The saga log (the saga service's own database)
 * keeps every saga's outcome for good, and a cancel of an order whose workflow is gone is refused as
 * for any ended saga, so nothing reads a purged workflow. Failed and terminated ones stay a month,
 * to be looked into.
 */
export const workflowStateRetention = { completed: '24h', failed: '720h', terminated: '720h' } as const;
