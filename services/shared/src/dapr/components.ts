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
 * state store) before it purges it, by how the workflow ended in Dapr's terms (Go durations). Kept
 * forever, it grows by about 5 KB per order (8 rows) and never shrinks. `completed` is every saga
 * that ran its course, whatever the order's outcome: paid, compensated, or FAILED in the saga log.
 * `failed` is a workflow whose code threw, `terminated` one an operator stopped: a month, to be looked
 * into. The saga log (the saga service's own database) keeps every outcome for good, and nothing
 * reads an ended workflow: a redelivered order_created or a cancel finds the saga ended in the log.
 * The policy acts on workflows that end while it is in place; Dapr does not purge older ones.
 */
export const workflowStateRetention = { completed: '24h', failed: '720h', terminated: '720h' } as const;
