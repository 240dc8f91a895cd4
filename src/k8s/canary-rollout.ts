import * as path from 'path';
import { ApiObject, App, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { BucketFilter } from './bucket-filter';
import type { Environment } from './environment';
import { Pin, Routing, validatePins } from './routing';
import { StepController } from './step-controller';
import { Metric } from '../rollout/analysis';
import { CanaryOptions, MirrorOptions } from '../rollout/canary';
import { RolloutPlan } from '../rollout/rollout-plan';
import { buildRolloutSpec } from '../rollout/private/build-spec';
import { Steps } from '../rollout/steps';
import { ANNOTATION_CONTROLLER_OWNED } from '../core/constants';
import * as errors from '../core/errors';
import { HttpRouteRule, renderHttpRouteRules } from '../core/routes/gateway-api';
import { RolloutSpec } from '../core/spec';
import { KubernetesBackend, KubernetesTarget } from '../core/contract/target';
import { abortWeights } from '../core/weights';

/** Props of a `CanaryRollout`. */
export interface CanaryRolloutProps {
  /** The environment whose traffic moves from its current version to the canaries. */
  readonly environment: Environment;
  /** The canaries: one, or several each with a weight (total 100 at most; the rest stays on stable). */
  readonly canaries: CanaryOptions[];
  /**
   * The schedule.
   * @default Steps.equal() - 10 equal steps over 10 minutes
   */
  readonly steps?: Steps;
  /**
   * How requests are split.
   * @default Routing.random()
   */
  readonly routing?: Routing;
  /**
   * Requests that always reach a given version (testers).
   * @default - none
   */
  readonly pins?: Pin[];
  /**
   * Shadow traffic to a version whose answers are discarded (Gateway API RequestMirror).
   * @default - none
   */
  readonly mirror?: MirrorOptions;
  /**
   * Metrics checked at every tick; a failure holds the weights, more than `checkFailureLimit` roll back.
   * @default - none
   */
  readonly checks?: Metric[];
  /**
   * Failed check measurements tolerated: the default rolls back at the first conclusive failure (the minimum-sample
   * guard keeps low traffic from counting as failure).
   * @default 0
   */
  readonly checkFailureLimit?: number;
  /**
   * A canary not ready this long after its replica floor rose rolls the rollout back (GPU loads are slow).
   * @default Duration.minutes(15)
   */
  readonly progressDeadline?: Duration;
  /**
   * How far ahead the controller raises replica floors, so GPU cold starts overlap the steps.
   * @default Duration.minutes(5)
   */
  readonly prewarm?: Duration;
  /**
   * Replicas of the stable version the capacity arithmetic starts from.
   * @default - the environment's minimum replicas
   */
  readonly stableReplicas?: number;
  /**
   * Prometheus the metric gates query.
   * @default - the environment's KEDA Prometheus, if any
   */
  readonly prometheusUrl?: string;
  /**
   * Stock Node image running the bundled controller.
   * @default 'node:22-alpine'
   */
  readonly controllerImage?: string;
  /**
   * Labels of the Istio gateway pods that run the bucket filter (sticky routing only).
   * @default { 'gateway.networking.k8s.io/gateway-name': <the environment's Gateway> }
   */
  readonly gatewayLabels?: { [key: string]: string };
  /**
   * Namespace of the gateway pods (where the bucket filter goes).
   * @default - the Gateway's namespace
   */
  readonly gatewayNamespace?: string;
  /**
   * Name of the rollout (DNS-1123), used in object and plan file names.
   * @default '<model>-<environment>'
   */
  readonly name?: string;
}

/**
 * Moves an environment's traffic from its current version to one or more canaries on a schedule, never faster
 * than the canaries' GPUs become ready, and back out when a check fails.
 *
 * Ownership: the manifests carry the spec; the step controller owns the live weights (the HTTPRoute's
 * `spec.rules`) and the canaries' replica floors (ScaledObject `minReplicaCount`). Re-applying the manifests
 * mid-rollout changes neither: the route's rules in the manifest are the safe initial state (all traffic on
 * stable), which client-side `kubectl apply` leaves alone while unchanged, and the state ConfigMap carries no data.
 * Argo CD: add `ignoreDifferences` for those fields (objects are annotated `model-rollout.dev/controller-owned-fields`).
 */
export class CanaryRollout extends Construct {
  /** The rollout's plan: timeline, duration, GPU-hours, spec hash. */
  public readonly plan: RolloutPlan;
  /** Name of the rollout. */
  public readonly name: string;
  /** Size of the bundled controller in the manifests, in bytes. */
  public readonly controllerBundleBytes: number;

  private readonly spec: RolloutSpec;
  private readonly target: KubernetesTarget;

  constructor(scope: Construct, id: string, props: CanaryRolloutProps) {
    super(scope, id);
    const env = props.environment;
    const p = this.node.path;
    if (env.scalesToZero && !env.kind.isDevelopment) throw errors.rolloutOnScaleToZero(p, 'environment', env.name);
    this.name = props.name ?? `${env.model.name}-${env.name}`;
    const routing = (props.routing ?? Routing.random())._bind(p);
    const pins = (props.pins ?? []).map((pin) => pin._spec());
    validatePins(p, pins);

    const model = env.model;
    const stable = env.currentVersion;
    this.spec = buildRolloutSpec(p, {
      name: this.name,
      stable,
      canaries: props.canaries,
      steps: props.steps,
      stableReplicas: props.stableReplicas ?? Math.max(1, env.minReplicas),
      versions: model.versions.map((v) => ({ name: v.name, gpusPerReplica: v.gpusPerReplica, gpuProduct: v.gpu?.product.name })),
      mirror: props.mirror,
      checks: props.checks,
      checkFailureLimit: props.checkFailureLimit,
      progressDeadlineSeconds: props.progressDeadline?.toSeconds(),
      keepPreviousWarmSeconds: env.keepPreviousWarmFor?.toSeconds(),
    });
    const prewarm = props.prewarm?.toSeconds();
    if (prewarm !== undefined) this.spec = { ...this.spec, prewarmSeconds: prewarm };
    pins.forEach((pin, i) => {
      if (!model.versions.some((v) => v.name === pin.version)) throw errors.unknownVersion(p, `pins[${i}].version`, pin.version, model.versions.map((v) => v.name));
    });

    // the environment attaches first: a development environment or a second rollout is refused here
    env._attachRollout({ node: this.node, rules: () => this.rules() });
    const involved = [stable, ...this.spec.canaries.map((c) => c.version), ...pins.map((x) => x.version)];
    if (this.spec.mirror) involved.push(this.spec.mirror.version);
    const backends: Record<string, KubernetesBackend> = {};
    for (const v of involved) backends[v] = env._ensureVersion(v);
    this.target = {
      kind: 'kubernetes',
      namespace: env.namespace ?? 'default',
      httpRoute: env.httpRouteName,
      pathPrefix: env.pathPrefix,
      backends,
      routing,
      pins,
    };

    const prometheusUrl = props.prometheusUrl ?? env.autoscaler.prometheusUrl;
    const controller = new StepController(this, 'Controller', {
      image: props.controllerImage,
      prometheusUrl,
      rollout: { spec: this.spec, target: this.target },
    });
    this.controllerBundleBytes = controller.bundleBytes;

    if (routing.kind !== 'random') {
      const gatewayName = env.gateway.name;
      new BucketFilter(this, 'BucketFilter', {
        name: `${this.name}-bucket`,
        namespace: props.gatewayNamespace ?? env.gateway.namespace ?? env.namespace,
        gatewayLabels: props.gatewayLabels ?? { 'gateway.networking.k8s.io/gateway-name': gatewayName },
        key: routing.kind === 'headerHash' ? { header: routing.header } : { query: routing.param },
        hostnames: env.hostnames ?? [],
        pathPrefix: env.pathPrefix,
      });
    }

    // fields the controller owns are marked on the objects, for Argo CD ignoreDifferences and the Terraform bridge
    const route = env._route;
    if (route) ApiObject.of(route).metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, 'spec.rules');
    for (const b of Object.values(backends)) {
      const w = env.workloads.find((x) => x._backend === b);
      w?._markFloorOwned();
    }

    this.plan = RolloutPlan._fromSpec(this.spec);
    // the plan goes beside the manifests: written when the app synthesizes (cdk8s validates, then writes)
    this.node.addValidation({
      validate: () => {
        const root = this.node.root;
        if (root instanceof App) this.plan.writeFiles(path.resolve(root.outdir));
        return [];
      },
    });
  }

  /** The route rules the manifests carry: every canary at 0 until the controller has their capacity ready. */
  private rules(): HttpRouteRule[] {
    return renderHttpRouteRules(this.spec, this.target, abortWeights(this.spec));
  }
}
