import {
  GROUP,
  KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
  ecomStackSpecSchema,
  ecomStackStatusSchema,
} from './ecom-stack';
import { structuralSchema, type Schema } from './structural-schema';

/** The EcomStack CustomResourceDefinition. The chart ships this object as YAML (generated, checked by a test). */
export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
            { name: 'Services', type: 'string', jsonPath: '.status.readyServices' },
            { name: 'Version', type: 'string', jsonPath: '.spec.version' },
            { name: 'Dapr', type: 'string', jsonPath: '.status.daprVersion', priority: 1 },
            {
              name: 'Reason',
              type: 'string',
              jsonPath: ".status.conditions[?(@.type=='Ready')].reason",
              priority: 1,
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'EcomStack: one resource that installs the whole ecom-micro system.',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: { ...structuralSchema(ecomStackSpecSchema), default: {} },
                status: structuralSchema(ecomStackStatusSchema),
              },
            } satisfies Schema,
          },
        },
      ],
    },
  };
}
