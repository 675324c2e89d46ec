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
