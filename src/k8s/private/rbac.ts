/**
 * The RBAC rules a step controller needs on a rollout's workloads: read every version's Deployment, and patch its
 * replica floor where it lives (the KEDA ScaledObject's `minReplicaCount`, the HPA's `minReplicas`, or the
 * Deployment's `scale` subresource when nothing autoscales it), each limited by `resourceNames`. Shared by the
 * in-cluster controller's Role and the Lambda's (through its EKS access entry).
 * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources
 */
import { KubernetesBackend } from '../../core/contract/target';

/** A Role rule as plain data. */
export interface PolicyRuleData {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly resourceNames: string[];
  readonly verbs: string[];
}

export function workloadPolicyRules(backends: readonly KubernetesBackend[]): PolicyRuleData[] {
  const rules: PolicyRuleData[] = [
    { apiGroups: ['apps'], resources: ['deployments'], resourceNames: uniq(backends.map((b) => b.deployment)), verbs: ['get'] },
  ];
  const scaled = uniq(backends.filter((b) => !b.scaledObject && !b.hpa).map((b) => b.deployment));
  if (scaled.length > 0) rules.push({ apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: scaled, verbs: ['patch'] });
  const scaledObjects = uniq(backends.flatMap((b) => (b.scaledObject ? [b.scaledObject] : [])));
  if (scaledObjects.length > 0) rules.push({ apiGroups: ['keda.sh'], resources: ['scaledobjects'], resourceNames: scaledObjects, verbs: ['get', 'patch'] });
  const hpas = uniq(backends.flatMap((b) => (b.hpa ? [b.hpa] : [])));
  if (hpas.length > 0) rules.push({ apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], resourceNames: hpas, verbs: ['get', 'patch'] });
  return rules;
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)].sort();
}

/**
 * `get` on the Secrets the rollout's notifiers read their URLs from, by name only (a Slack webhook URL is a
 * credential: the controller reads it when it posts, nothing else).
 */
export function notificationPolicyRules(secrets: readonly string[]): PolicyRuleData[] {
  const names = uniq([...secrets]);
  return names.length > 0 ? [{ apiGroups: [''], resources: ['secrets'], resourceNames: names, verbs: ['get'] }] : [];
}
