import { ConditionType, type Condition, type ConditionStatus, type EcomStackStatus } from '../api/ecom-stack';
import { DAPR_INJECTOR_WEBHOOK, type DaprControlPlane } from './dapr-control-plane';

/** What the reconciler observed, reduced to what the conditions need. */
export interface Observation {
  generation: number;
  version: string;
  /** The spec could not be used: every problem found. */
  specProblems?: string[];
  /** Another EcomStack already owns this namespace. */
  duplicateOf?: string;
  /** Applying the children failed (after the spec was valid). */
  applyError?: string;
  /** Dapr's CRDs are missing, so the Dapr resources could not be applied. */
  daprMissing?: string;
  /** Dapr's control plane: its sidecar injector, which gives every app pod its sidecar. */
  daprControlPlane?: DaprControlPlane;
  /** Secrets the spec references that do not exist. */
  missingSecrets?: string[];
  /** Each app's rollout state: the seven services and the edge. */
  services?: { name: string; ready: boolean; detail: string }[];
  /** Each managed backend (and the topics Job). */
  infrastructure?: { name: string; ready: boolean; detail: string }[];
}

interface Verdict {
  status: ConditionStatus;
  reason: string;
  message: string;
}

const ok = (reason: string, message: string): Verdict => ({ status: 'True', reason, message });
const notOk = (reason: string, message: string): Verdict => ({ status: 'False', reason, message });
const unknown = (reason: string, message: string): Verdict => ({ status: 'Unknown', reason, message });

function part(items: { name: string; ready: boolean; detail: string }[] | undefined, what: string): Verdict {
  if (items === undefined) return unknown('NotObserved', `${what} not observed yet`);
  const waiting = items.filter((i) => !i.ready);
  if (waiting.length === 0) return ok('AllReady', `${items.length} ${what} ready`);
  return notOk('NotReady', waiting.map((i) => `${i.name}: ${i.detail}`).join('; '));
}

const injector = `MutatingWebhookConfiguration ${DAPR_INJECTOR_WEBHOOK.name}`;

/** Whether Dapr's control plane is there: its CRDs (found by applying) and its sidecar injector. */
function daprInstalled(obs: Observation): Verdict {
  if (obs.daprMissing) return notOk('DaprNotInstalled', obs.daprMissing);
  const found = obs.daprControlPlane;
  switch (found?.state) {
    case undefined:
      return unknown('NotObserved', "Dapr's control plane not looked for yet");
    case 'found':
      return ok(
        'Found',
        `Dapr ${found.version ?? '(version not labelled)'}${found.namespace ? ` in namespace ${found.namespace}` : ''}: its sidecar injector is registered (${injector})`,
      );
    case 'absent':
      return notOk(
        'DaprNotInstalled',
        `Dapr's control plane is not installed (no ${injector}), so the apps' pods start without sidecars; install it (npm run kube:install, or dapr init -k), then restart the stack's Deployments`,
      );
    case 'unknown':
      return unknown('CannotCheck', `cannot look for Dapr's sidecar injector (${found.why})`);
  }
}

/**
 * Rolls the observation up into the stack's conditions. Pure: the previous
 * conditions keep their lastTransitionTime when their status does not change.
 */
export function computeStatus(obs: Observation, previous: readonly Condition[], now: Date): EcomStackStatus {
  let controlPlane = daprInstalled(obs);
  let degraded: Verdict = notOk('AsExpected', 'no problems found');
  if (obs.specProblems && obs.specProblems.length > 0)
    degraded = ok('InvalidSpec', obs.specProblems.join('; '));
  else if (obs.duplicateOf)
    degraded = ok(
      'DuplicateInNamespace',
      `EcomStack ${obs.duplicateOf} already manages this namespace; remove one`,
    );
  else if (obs.applyError) degraded = ok('ApplyFailed', obs.applyError);
  else if (controlPlane.reason === 'DaprNotInstalled')
    degraded = ok(controlPlane.reason, controlPlane.message);
  else if (obs.missingSecrets && obs.missingSecrets.length > 0)
    degraded = ok('MissingSecret', `referenced Secrets not found: ${obs.missingSecrets.join(', ')}`);

  const blocked = degraded.status === 'True';
  let infra = part(obs.infrastructure, 'infrastructure parts');
  if (obs.missingSecrets && obs.missingSecrets.length > 0) infra = notOk('MissingSecret', degraded.message);
  let dapr: Verdict = obs.daprMissing
    ? notOk('DaprNotInstalled', obs.daprMissing)
    : obs.applyError
      ? notOk('ApplyFailed', obs.applyError)
      : ok('Applied', 'Dapr components, configuration and resiliency applied');
  let services = part(obs.services, 'services');
  if (obs.specProblems?.length || obs.duplicateOf) {
    const why = notOk(degraded.reason, degraded.message);
    infra = why;
    dapr = why;
    services = why;
    controlPlane = why;
  }

  const allReady = !blocked && [infra, dapr, services].every((v) => v.status === 'True');
  const firstBad = [infra, dapr, services].find((v) => v.status !== 'True');
  const ready = allReady
    ? ok('StackReady', 'every service and backend is ready')
    : blocked
      ? notOk(degraded.reason, degraded.message)
      : notOk(firstBad?.reason ?? 'NotReady', firstBad?.message ?? 'not ready');
  const progressing = allReady
    ? notOk('StackReady', 'rollout complete')
    : blocked
      ? notOk(degraded.reason, 'waiting for the problem to be fixed')
      : ok('RollingOut', firstBad?.message ?? 'rolling out');

  const verdicts: [ConditionType, Verdict][] = [
    [ConditionType.Ready, ready],
    [ConditionType.Progressing, progressing],
    [ConditionType.Degraded, degraded],
    [ConditionType.InfrastructureReady, infra],
    [ConditionType.DaprInstalled, controlPlane],
    [ConditionType.DaprComponentsReady, dapr],
    [ConditionType.ServicesReady, services],
  ];
  const conditions = verdicts.map(([type, v]): Condition => {
    const before = previous.find((c) => c.type === type);
    const lastTransitionTime =
      before && before.status === v.status
        ? before.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      type,
      status: v.status,
      reason: v.reason,
      message: truncate(v.message),
      observedGeneration: obs.generation,
      lastTransitionTime,
    };
  });
  const total = obs.services?.length ?? 0;
  const readyCount = obs.services?.filter((s) => s.ready).length ?? 0;
  return {
    observedGeneration: obs.generation,
    conditions,
    readyServices: `${readyCount}/${total}`,
    version: obs.version,
    ...(obs.daprControlPlane?.state === 'found' && obs.daprControlPlane.version
      ? { daprVersion: obs.daprControlPlane.version }
      : {}),
  };
}

function truncate(message: string): string {
  return message.length > 1000 ? `${message.slice(0, 997)}...` : message;
}
