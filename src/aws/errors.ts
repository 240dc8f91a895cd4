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

export function environmentWithoutEks(path: string, property: string, env: string) {
  return configError(path, property, undefined, `the rollout raises the replica floors of environment "${env}" through the EKS API, and no cluster is given: its canary would never get replicas and would abort at the progress deadline`,
    'give `eks: { clusterName, endpoint, certificateAuthority }` of the cluster that runs the environment');
}

export function bridgeBeforeRollout(path: string, property: string, bridge: string) {
  return configError(path, property, undefined, `the chart of this environment was already rendered into Terraform by ${bridge}, so the canary's workloads this rollout adds would be missing while its target group is bound`,
    'create the KubernetesManifests bridge after every rollout of its charts');
}

export function priorityOutOfRange(path: string, property: string, value: number) {
  return configError(path, property, value, 'listener rule priorities are whole numbers from 1 to 50000', 'use a free priority of the listener, for example `priority: 100`');
}

export function priorityTaken(path: string, property: string, value: number, other: string) {
  return configError(path, property, value, `${other} already uses this priority on the same listener; an ALB refuses two rules with one priority`,
    'give each rollout on a listener its own priority');
}

export function pinPrioritiesBelowOne(path: string, property: string, priority: number, pins: number) {
  return configError(path, property, priority, `the ${pins} pin rule(s) take the priorities just below the rollout's rule (evaluated first), and priority ${priority} leaves no room for them above 0`,
    `use a priority of at least ${pins + 1}, with ${pins} free priorities below it on the listener`);
}

export function pinRegexOnAlb(path: string, property: string, regex: string) {
  return configError(path, property, regex, 'ALB listener rule conditions have no regular expressions (only `*` and `?` wildcards)',
    'use exact pins (`Pin.header`, `Pin.query`, `Pin.cookie`) on AWS, one per value');
}

export function pinWildcard(path: string, property: string, value: string) {
  return configError(path, property, value, 'an ALB condition treats `*` and `?` as wildcards, so this pin would match other values too',
    'use a pin name and value without `*` or `?`');
}

export function pinConditionsOverLimit(path: string, property: string, values: number, limit: number) {
  return configError(path, property, values, `a pin rule repeats the rollout's host and path conditions and adds its own: ${values} condition values, over ALB's ${limit} per rule`,
    'use fewer host headers and path patterns (a cookie pin takes 4 condition values, other pins 1), or split the rollout');
}

export function stickinessOutOfRange(path: string, property: string, seconds: number) {
  return configError(path, property, rendered(`${seconds} s`), 'target-group stickiness lasts from 1 second to 7 days (604800 s)',
    'use for example `stickiness: Duration.hours(1)`, or leave it out');
}

export function noLoadBalancerSecurityGroup(path: string) {
  return `[${path}] no loadBalancerSecurityGroupId: the TargetGroupBindings carry no networking rules, so the pods' security group must already accept the load balancer on the model's port, or no target ever becomes healthy. ` +
    'Give `loadBalancerSecurityGroupId` to let the AWS Load Balancer Controller open it.';
}

export function nodeGroupNameTooLong(path: string, property: string, value: string) {
  return configError(path, property, value, `node group names are 63 characters at most, and "${value}" has ${value.length}`,
    'give a shorter `nodeGroupName`');
}

export function rolloutOnInactiveEnvironment(path: string, property: string, env: string) {
  return configError(path, property, env, `environment "${env}" is inactive (\`active: false\`): its versions have no replicas for the listener rule to split traffic between`,
    'activate the environment (`active: true`) for the rollout, or remove the rollout while the environment is inactive');
}

export function prometheusCheckOnAlb(path: string, property: string, metric: string) {
  return configError(path, property, metric, 'the AWS controller (a Lambda) judges CloudWatch alarms only: it has no address, credentials or network path to Prometheus, so this check would never be measured',
    'alarm on the metric in CloudWatch and check it with `Metric.cloudWatchAlarm(\'<alarm name>\')` (or `rollout.addAlarm(alarm)`), or run the rollout on Kubernetes with `CanaryRollout`');
}

export function routeBorrowedTwice(path: string, property: string, route: string, other: string) {
  return configError(path, property, route, `the route is already borrowed by the rollout at ${other}; one rollout at a time moves its weights`,
    'finish or remove the other rollout first, or give this one its own route');
}

export function routeServesAnotherVersion(path: string, property: string, serving: string, stable: string) {
  return configError(path, property, stable, `the route serves ${serving}, and a rollout starts from the version the route serves`,
    `set the rollout's stable version (or the environment's version) to ${serving}, or the route's \`servingVersion\` to ${stable}`);
}

export function routeOfAnotherEnvironment(path: string, property: string, routeEnv: string, env: string) {
  return configError(path, property, env, `the route belongs to environment "${routeEnv}"`,
    'give the rollout the route of its own environment (or the same `environment` as the route)');
}

export function listenerOrRouteMissing(path: string, property: string) {
  return configError(path, property, undefined, 'a rollout needs a listener rule: either a `route` (an `AlbRoute`, which keeps the host routed between releases) or `listenerArn`, `vpcId` and `priority`',
    'pass `route: new AlbRoute(...)` (recommended), or the three listener props');
}

export function pinsNeedOwnRule(path: string, property: string) {
  return configError(path, property, undefined, 'pin rules sit just below the rollout\'s own listener rule; a rollout that borrows an `AlbRoute` has none',
    'drop `pins` from the rollout, or give it `listenerArn`, `vpcId` and `priority` instead of `route`');
}
