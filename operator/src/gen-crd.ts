/**
 * Writes the EcomStack CRD the operator defines (src/api/crd.ts) into the chart,
 * so the chart never carries a hand-edited copy. A unit spec fails when they differ.
 *
 *   npm run -w operator crd
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { format, resolveConfig } from 'prettier';
import { buildCrd } from './api/crd';

const target = join(__dirname, '../../charts/ecom-micro/crds/ecomstacks.ecom-micro.io.yaml');
const header = '# Generated from operator/src/api/crd.ts by `npm run -w operator crd`. Do not edit.\n';
async function main(): Promise<void> {
  const yaml = header + dump(buildCrd(), { noRefs: true, lineWidth: 120, quotingType: '"' });
  const options = (await resolveConfig(target)) ?? {};
  writeFileSync(target, await format(yaml, { ...options, parser: 'yaml' }));
  process.stdout.write(`${target}\n`);
}

void main();
