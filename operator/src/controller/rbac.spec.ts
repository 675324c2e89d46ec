import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { DAPR_INJECTOR_WEBHOOK } from './dapr-control-plane';
import { OWNED_KINDS } from './reconciler';

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/**
 * The Roles and ClusterRoles of the chart's rbac.yaml. The template's comments and its own lines
 * ({{ ... }}) are dropped: what is left of each document is plain YAML.
 */
function chartRoles(): { kind?: string; rules?: Rule[] }[] {
  const template = readFileSync(join(__dirname, '../../../charts/ecom-micro/templates/rbac.yaml'), 'utf8')
    // Template comments ({{- /* ... */ -}}) span lines.
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '');
  return template
    .split(/^---$/m)
    .map((doc) =>
      doc
        .split('\n')
        .filter((line) => !line.includes('{{'))
        .join('\n'),
    )
    .map((doc) => (load(doc) ?? {}) as { kind?: string; rules?: Rule[] });
}

/** The rules of the Role the chart gives the operator in each watched namespace. */
function namespaceRoleRules(): Rule[] {
  const role = chartRoles().find(
    (doc) => doc.kind === 'Role' && doc.rules?.some((r) => r.resources.includes('ecomstacks')),
  );
  if (!role?.rules) throw new Error("no namespace Role in the chart's rbac.yaml");
  return role.rules;
}

/** A kind's resource name: lower case, plural (the kinds the operator owns are all regular). */
const resourceOf = (kind: string) => {
  const lower = kind.toLowerCase();
  return lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
};
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '');

describe("the chart's RBAC", () => {
  const rules = namespaceRoleRules();
  const verbsFor = (group: string, resource: string) =>
    new Set(
      rules
        .filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource))
        .flatMap((r) => r.verbs),
    );

  it.each(OWNED_KINDS.map((k) => [k.kind, k.apiVersion]))(
    'lets the operator watch, apply and prune every %s (%s)',
    (kind, apiVersion) => {
      const verbs = verbsFor(groupOf(apiVersion), resourceOf(kind));
      // list and watch: its informer and the prune; create and patch: server-side apply, which
      // creates an absent object through a patch the API server authorises as create; delete: prune.
      for (const verb of ['list', 'watch', 'create', 'patch', 'delete']) {
        expect({ kind, verb, granted: verbs.has(verb) }).toEqual({ kind, verb, granted: true });
      }
    },
  );

  it('grants PodDisruptionBudgets those verbs and no more', () => {
    expect([...verbsFor('policy', 'poddisruptionbudgets')].sort()).toEqual(
      ['create', 'delete', 'list', 'patch', 'watch'].sort(),
    );
  });

  it('grants no Secret listing or watching', () => {
    expect([...verbsFor('', 'secrets')].sort()).toEqual(['create', 'get']);
  });

  it('grants cluster-wide only named objects: its own CRD, and Dapr’s injector registration to read', () => {
    const clusterRules = chartRoles()
      .filter((doc) => doc.kind === 'ClusterRole')
      .flatMap((doc) => doc.rules ?? []);
    expect(clusterRules).toEqual([
      {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        resourceNames: ['ecomstacks.ecom-micro.io'],
        verbs: ['get', 'patch'],
      },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations'],
        resourceNames: [DAPR_INJECTOR_WEBHOOK.name],
        verbs: ['get'],
      },
    ]);
  });
});
