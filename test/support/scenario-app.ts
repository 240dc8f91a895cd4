/**
 * The app the cluster scenarios deploy: a model with versions v1 (serving) and v2 (and more canaries), one
 * production environment behind the `inference` gateway, and (while `canary`) a rollout of 5 equal steps over
 * 5 minutes. Shared by test/cluster-scenarios*.test.ts.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { Steps } from '../../src';
import { PlanData } from '../../src/core/plan/plan';
import { CanaryRollout, GatewayImplementation, ManifestApplier, Model, Routing } from '../../src/k8s';

export const SCENARIO_NAMESPACE = 'models';
export const SCENARIO_HOST = 'llm.example.com';

export interface ScenarioAppOptions {
  /** The rollout is in the code (`true`), or the code moved on to v2 (`false`). */
  readonly canary: boolean;
  /** Canary versions (default `['v2']`, ramped by the steps; several hold a fixed split). */
  readonly canaries?: readonly string[];
  readonly routing?: Routing;
  /**
   * The steps (default: 5 equal steps over 5 minutes without the default shadow step, the timeline most scenarios
   * are written against; the shadow scenario passes its own).
   */
  readonly steps?: Steps;
  /** How the manifests are applied (the environment's `appliedBy`). */
  readonly appliedBy?: ManifestApplier;
  /** The environment's keep-warm window after a promotion. */
  readonly keepPreviousWarmFor?: Duration;
}

/** The app's chart and, while the rollout is in the code, its plan. */
export function scenarioApp(options: ScenarioAppOptions): { chart: Chart; plan?: PlanData } {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: SCENARIO_NAMESPACE });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llm', image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
  const canaries = options.canaries ?? ['v2'];
  for (const v of canaries) model.addVersion(v);
  const production = model.addEnvironment('production', {
    version: options.canary ? 'v1' : 'v2',
    gateway: { name: 'inference', namespace: 'gateways' },
    hostnames: [SCENARIO_HOST],
    autoscaling: { minReplicas: 2, maxReplicas: 4 },
    appliedBy: options.appliedBy,
    keepPreviousWarmFor: options.keepPreviousWarmFor,
  });
  let rollout: CanaryRollout | undefined;
  if (options.canary) {
    rollout = new CanaryRollout(chart, 'Rollout', {
      environment: production,
      canaries: canaries.length > 1
        ? canaries.map((version) => ({ version, weight: Math.floor(100 / (canaries.length + 1)) }))
        : [{ version: canaries[0] }],
      steps: options.steps ?? Steps.equal({ count: 5, over: Duration.minutes(5), shadowFirst: false }),
      defaultChecks: false,
      routing: options.routing,
      ...(options.routing?.sticky ? { gatewayImplementation: GatewayImplementation.ISTIO } : {}),
    });
  }
  return { chart, plan: rollout?.plan._data() };
}

/** The app's objects as kubectl gets them. */
export function scenarioManifests(options: ScenarioAppOptions = { canary: true }): { objects: any[]; plan?: PlanData } {
  const { chart, plan } = scenarioApp(options);
  return { objects: Testing.synth(chart), plan };
}
