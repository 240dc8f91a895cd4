/**
 * Messages of the AWS constructs, one named function per rule (a message reused for another prop gives a
 * wrong fix). Each names the construct path, the property, the value received, the problem and the fix.
 */
import { configError, rendered } from '../core/errors';

// ---------------------------------------------------------------------------------------------
// AWS target (src/aws)
// ---------------------------------------------------------------------------------------------

export function notGpuInstanceType(path: string, property: string, value: string, known: string) {
  return configError(path, property, value, `"${value}" is not a GPU instance type this library knows (GPU families: ${known})`,
    'use a GPU instance type such as g5.2xlarge, g6.xlarge, g6e.12xlarge, p4d.24xlarge or p5.48xlarge');
}

export function mixedGpuProducts(path: string, property: string, value: string[]) {
  return configError(path, property, value, 'the instance types carry different GPU products; a node group labels its nodes with one product',
    'use one GPU family per node group (one group per product)');
}

export function tooManyTargetGroups(path: string, property: string, count: number, max: number) {
  return configError(path, property, count, `an ALB forward action splits between ${max} target groups at most, and this rule would need ${count}`,
    `keep at most ${max} live versions on one listener rule (stable + ${max - 1} canaries)`);
}

export function noAlarmNoGate(path: string) {
  return `[${path}] the rollout has no alarm and no metric gate: a faulty canary is only stopped by \`model-rollout cancel\`. ` +
    'Add `alarms` thresholds (they are on by default), `rollout.addAlarm(alarm)` or an analysis step.';
}

export function targetGroupNameTooLong(path: string, property: string, value: string) {
  return configError(path, property, value, `target group names are 32 characters at most, and "${value}" has ${value.length}`,
    'give the rollout a shorter `name`');
}

export function nodeGroupSizeInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'node group sizes are whole numbers of at least 0', 'use for example `minSize: 0, maxSize: 4`');
}

export function nodeGroupMinAboveMax(path: string, property: string, min: number, max: number) {
  return configError(path, property, rendered(`minSize ${min} > maxSize ${max}`), 'the node group\'s minimum size is above its maximum',
    `lower minSize to ${max} at most, or raise maxSize to ${min} or more`);
}

export function stableVersionMissing(path: string, property: string) {
  return configError(path, property, undefined, 'the rollout does not know which version serves now',
    "give `environment` (its current version is the stable one) or `stableVersion: 'v1'`");
}

export function versionsMissing(path: string, property: string) {
  return configError(path, property, undefined, 'the rollout does not know the versions behind the load balancer',
    "give `environment` (versions, ports and GPUs come from its model) or `versions: [{ name: 'v1', port: 8000 }, ...]`");
}
