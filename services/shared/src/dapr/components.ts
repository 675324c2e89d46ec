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
