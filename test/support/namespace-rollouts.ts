/**
 * The objects the constructs synthesize for several models in one namespace, each with a production environment behind
 * the `inference` gateway and one rollout to v2 (no default checks): what the namespace controller tests run against.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { CanaryRollout, Model } from '../../src/k8s';

export const NS = 'models';

/** Manifests of one rollout per entry; `tick` sets its `tickInterval` in seconds. */
export function namespaceRollouts(rollouts: ReadonlyArray<{ readonly name: string; readonly tick?: number }>): any[] {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  for (const { name, tick } of rollouts) {
    const m = new Model(chart, name, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name, image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, autoscaling: { minReplicas: 1 } });
    new CanaryRollout(chart, `${name}Rollout`, {
      environment: prod, canaries: [{ version: 'v2' }], defaultChecks: false, ...(tick ? { tickInterval: Duration.seconds(tick) } : {}),
    });
  }
  return Testing.synth(chart);
}
