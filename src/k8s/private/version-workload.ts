/**
 * One version's workload in one environment: Deployment, Service, PodDisruptionBudget and autoscaler (KEDA
 * ScaledObject, or an HPA; with scale to zero the environment's one HTTPScaledObject scales whichever version is
 * current). Internal: environments create it; users reach its objects through `node.findChild()` (the escape
 * hatch), e.g. `environment.node.findChild('VersionV2').node.findChild('Resource')` for the Deployment.
 */
import { ApiObject, Duration, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { ANNOTATION_CONTROLLER_OWNED, LABEL_ENVIRONMENT, LABEL_MODEL, LABEL_VERSION } from '../../core/constants';
import { KubernetesBackend } from '../../core/contract/target';
import { fillPlaceholders } from '../../core/placeholders';
import { Autoscaler } from '../autoscaling';
import { IModel, IModelVersion } from '../contracts';
import * as errors from '../errors';
import { FLUX_SSA_ANNOTATION } from './applier';
import { PodSettings } from './hosts';
import { renderPodTemplate } from './pod-template';
import { scalingOf } from './version-scaling';

/** The in-flight query of a model with no serving engine: a metric the model server must export itself. */
const LEGACY_IN_FLIGHT_QUERY = 'sum(model_inflight_requests{model="{{model}}",environment="{{environment}}",version="{{version}}"})';

/**
 * Time Karpenter needs to launch a GPU node and the kubelet to pull a multi-GB image before the model starts
 * loading; added to `loadTimeout` for the Deployment's progress deadline, the KEDA interceptor's wait and the
 * rollout's progress deadline.
 */
export const NODE_PROVISIONING_SECONDS = 10 * 60;

/** What a version does in an environment. */
export enum VersionRole {
  /** Serves the environment: autoscaled between the environment's minimum and maximum. */
  CURRENT = 'current',
  /** The previous version, kept warm at the environment's minimum during its keep-warm window. */
  WARM = 'warm',
  /** Deployed but without a floor (a demoted version, or a canary before the controller raises its floor). */
  IDLE = 'idle',
}

/** The environment settings a workload renders with. */
export interface WorkloadEnvironment {
  readonly name: string;
  readonly namespace?: string;
  readonly active: boolean;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly scalesToZero: boolean;
  readonly autoscaler: Autoscaler;
  readonly concurrencyTarget: number;
  readonly scaleUpWindow: Duration;
  readonly scaleDownDelay: Duration;
  /**
   * Whether a re-apply leaves a Deployment's `replicas` alone once the objects mark it controller-owned (Argo CD
   * with `RespectIgnoreDifferences`, the Terraform bridge's computed fields; not kubectl or Flux, which set every
   * field the manifest carries).
   */
  readonly replicasKept: boolean;
  /**
   * Whether an autoscaler whose floor the controller owns is created once and never applied again (Flux's
   * `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent`): Flux applies every field it carries with ownership forced at
   * every reconcile, which would raise a demoted version's floor back to the environment's minimum each interval.
   */
  readonly createOnlyFloors: boolean;
  readonly labels: { [key: string]: string };
  /** A development environment: its 0..1 replicas win over a version's autoscaling. */
  readonly development: boolean;
  /** The Prometheus KEDA's trigger queries (checked by the environment where a trigger needs it). */
  readonly prometheusUrl?: string;
}

/** Props of a `VersionWorkload`. */
export interface VersionWorkloadProps {
  readonly model: IModel;
  readonly version: IModelVersion;
  readonly environment: WorkloadEnvironment;
  /** The version's role, read when the manifests render (promotion may change it after construction). */
  readonly role: () => VersionRole;
  /** The replica floor of a fixed split, held by the manifests (no controller raises it). */
  readonly fixedFloor?: () => number | undefined;
  /** Pod settings of the model. */
  readonly pod: PodSettings;
}


/** Longest Kubernetes object name the workload's objects share (a DNS-1123 label). */
const MAX_OBJECT_NAME = 63;

/**
 * Which autoscaler a version has: `http` (scale to zero: the environment's one HTTPScaledObject targets whichever
 * version is current, so none here), a KEDA ScaledObject, an HPA, or none.
 */
type AutoscalerKind = 'http' | 'keda' | 'hpa' | 'none';

export class VersionWorkload extends Construct {
  /** Names of the objects, for routes and the step controller. */
  public readonly backend: KubernetesBackend;
  /** Name shared by the Deployment, Service, PDB and autoscaler. */
  public readonly objectName: string;

  /** The Deployment (escape hatch: `ApiObject.of(...)`/`addJsonPatch`). */
  public readonly deployment: ApiObject;

  private readonly props: VersionWorkloadProps;
  private readonly autoscalerKind: AutoscalerKind;
  private readonly autoscalerObject?: ApiObject;
  private floorOwned = false;

  constructor(scope: Construct, id: string, props: VersionWorkloadProps) {
    super(scope, id);
    // the version's own autoscaling over the environment's (private/version-scaling.ts)
    this.props = { ...props, environment: scalingOf(props.environment, props.version) };
    const { model, version: v, environment: env } = this.props;
    this.objectName = `${model.name}-${env.name}-${v.name}`;
    if (this.objectName.length > MAX_OBJECT_NAME) throw errors.nameTooLong(this.node.path, 'name', this.objectName, MAX_OBJECT_NAME);
    this.autoscalerKind = autoscalerKindOf(env, props.role());
    const metadata = this.metadata();

    this.deployment = new k8s.KubeDeployment(this, 'Resource', { metadata, spec: Lazy.any({ produce: () => this.deploymentSpec() }) });
    new k8s.KubeService(this, 'Service', {
      metadata,
      spec: { selector: this.selector(), ports: [{ name: 'http', port: v.port, targetPort: k8s.IntOrString.fromNumber(v.port) }] },
    });
    new k8s.KubePodDisruptionBudget(this, 'Budget', { metadata, spec: this.budgetSpec() });
    if (this.autoscalerKind === 'keda') {
      this.autoscalerObject = new ApiObject(this, 'Autoscaler', {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        // an inactive environment keeps its autoscaler's settings, paused at zero replicas
        metadata: { ...metadata, annotations: env.active ? undefined : { 'autoscaling.keda.sh/paused-replicas': '0' } },
        spec: Lazy.any({ produce: () => this.scaledObjectSpec() }),
      });
    } else if (this.autoscalerKind === 'hpa') {
      this.autoscalerObject = new k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
        metadata,
        spec: Lazy.any({ produce: () => this.hpaSpec() }),
      });
    }

    this.backend = {
      service: this.objectName,
      port: v.port,
      deployment: this.objectName,
      scaledObject: this.autoscalerKind === 'keda' ? this.objectName : undefined,
      hpa: this.autoscalerKind === 'hpa' ? this.objectName : undefined,
      baseReplicas: env.minReplicas,
    };
  }

  /** Mark the replica floor as owned by the step controller (Argo CD ignoreDifferences, the Terraform bridge). */
  public markFloorOwned(): void {
    this.floorOwned = true;
    if (this.props.environment.createOnlyFloors && this.autoscalerObject) this.autoscalerObject.metadata.addAnnotation(FLUX_SSA_ANNOTATION, 'IfNotPresent');
    if (this.startsAtZeroOwned()) {
      // `replicas: 0` only sets the start: the appliers that keep controller-owned fields never send it again
      const fields = this.autoscalerKind === 'keda' ? 'spec.minReplicaCount,spec.maxReplicaCount' : 'spec.minReplicas';
      this.deployment.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, 'spec.replicas');
      if (this.autoscalerObject) this.autoscalerObject.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, fields);
      return;
    }
    if (!this.autoscalerObject) {
      // no autoscaler: the controller sets the Deployment's replicas through deployments/scale
      this.deployment.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, 'spec.replicas');
      return;
    }
    // the controller writes the floor, and on KEDA also maxReplicaCount (so a floor above the maximum is honoured)
    const fields = this.autoscalerKind === 'keda' ? 'spec.minReplicaCount,spec.maxReplicaCount' : 'spec.minReplicas';
    this.autoscalerObject.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, fields);
  }

  /** The Deployment's spec, rendered at synth: the replicas follow the version's role then. */
  private deploymentSpec(): k8s.DeploymentSpec {
    const { model, version: v, environment: env, pod } = this.props;
    return {
      replicas: this.replicas(),
      // a scale-up waits for a GPU node and a 15-25 minute load: Kubernetes' 600 s default reports every such
      // rollout as ProgressDeadlineExceeded (Argo CD: Degraded)
      // https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#progress-deadline-seconds
      progressDeadlineSeconds: v.loadTimeout.toSeconds() + NODE_PROVISIONING_SECONDS,
      selector: { matchLabels: this.selector() },
      template: renderPodTemplate({ model, version: v, environment: env.name, labels: this.labels(), pod }),
    };
  }

  /** The KEDA ScaledObject's spec, rendered at synth: its floor follows the version's role then. */
  private scaledObjectSpec(): unknown {
    const { environment: env, pod } = this.props;
    const a = env.autoscaler;
    const max = this.maxReplicas();
    return {
      scaleTargetRef: { name: this.objectName, kind: 'Deployment', apiVersion: 'apps/v1' },
      minReplicaCount: this.floor(),
      maxReplicaCount: max,
      cooldownPeriod: env.scaleDownDelay.toSeconds(),
      advanced: { horizontalPodAutoscalerConfig: { behavior: this.scalingBehavior() } },
      // an empty answer is not zero load: KEDA's default (ignoreNullValues true) reads it as 0 and never scales
      // up; with false the scaler errors, and after `failureThreshold` errors KEDA applies the fallback
      // (https://keda.sh/docs/2.16/scalers/prometheus/, https://keda.sh/docs/2.16/reference/scaledobject-spec/#fallback).
      // The fallback works through the HPA, which still clamps to minReplicaCount (the controller's floor).
      fallback: {
        failureThreshold: a.fallbackFailureThreshold ?? 3,
        replicas: this.props.role() === VersionRole.CURRENT ? Math.min(max, Math.max(this.floor(), a.fallbackReplicas ?? max)) : this.floor(),
      },
      triggers: [{
        type: 'prometheus',
        metadata: {
          serverAddress: env.prometheusUrl!,
          query: this.fillQuery(a.inFlightQuery ?? pod.servingEngine?.inFlightQuery ?? LEGACY_IN_FLIGHT_QUERY),
          threshold: String(env.concurrencyTarget),
          ignoreNullValues: 'false',
          ...(a.authModes ? { authModes: a.authModes } : {}),
          ...(a.customHeaders ? { customHeaders: a.customHeaders } : {}),
        },
        ...(a.triggerAuthentication ? { authenticationRef: { name: a.triggerAuthentication } } : {}),
      }],
    };
  }

  /** The HPA's spec, rendered at synth. */
  private hpaSpec(): k8s.HorizontalPodAutoscalerSpecV2 {
    const env = this.props.environment;
    return {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.objectName },
      minReplicas: Math.max(1, this.floor()),
      maxReplicas: this.maxReplicas(),
      metrics: [{
        type: 'Pods',
        pods: { metric: { name: env.autoscaler.metricName! }, target: { type: 'AverageValue', averageValue: k8s.Quantity.fromNumber(env.concurrencyTarget) } },
      }],
      behavior: this.scalingBehavior(),
    };
  }

  /**
   * The Deployment's `replicas`. Versions that serve start at their floor, every other version at 0: a Deployment
   * without `replicas` starts with 1 (a GPU node launched on every fresh apply before the autoscaler scales it
   * down). The serving version leaves `replicas` to its autoscaler (KEDA, HPA, or the HTTP add-on).
   */
  private replicas(): number | undefined {
    if (!this.props.environment.active) return 0;
    // A version whose floor the step controller owns starts at 0 where the applier never sends `replicas` again
    // (marked controller-owned); elsewhere it leaves `replicas` out, at the API server's default of 1: re-applying
    // `replicas: 0` would scale a live canary to zero at once (client-side apply and Flux's forced server-side
    // apply set every field the manifest carries), and KEDA scales the idle one down after its cooldown.
    if (this.floorOwned) return this.startsAtZeroOwned() ? 0 : undefined;
    const role = this.props.role();
    switch (this.autoscalerKind) {
      case 'http': return role === VersionRole.CURRENT ? undefined : 0;
      case 'keda': return role === VersionRole.IDLE && this.props.fixedFloor?.() === undefined ? 0 : undefined;
      case 'hpa': return role === VersionRole.CURRENT ? undefined : this.floor();
      default: return this.floor();
    }
  }

  /** A controller-floored version that does not serve at synth, whose applier leaves `replicas` alone after creating it. */
  private startsAtZeroOwned(): boolean {
    return this.props.environment.replicasKept && this.props.role() !== VersionRole.CURRENT && this.props.fixedFloor?.() === undefined;
  }

  /** The replica floor the manifests hold: a fixed split's, else the environment's minimum while the version serves. */
  private floor(): number {
    const env = this.props.environment;
    if (!env.active) return 0;
    const fixed = this.props.fixedFloor?.();
    if (fixed !== undefined) return fixed;
    const role = this.props.role();
    return role === VersionRole.CURRENT || role === VersionRole.WARM ? env.minReplicas : 0;
  }

  private maxReplicas(): number {
    return this.props.environment.maxReplicas;
  }

  /**
   * Voluntary disruptions (node drains, drift) take one replica at a time; with a floor of 1 the only replica is
   * never evicted (minAvailable 1): a drain waits for the operator to scale up, instead of an outage. Unready pods
   * may always go, so a crash-looping pod never blocks a drain
   * (https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy).
   */
  private budgetSpec(): k8s.PodDisruptionBudgetSpec {
    const one = k8s.IntOrString.fromNumber(1);
    return {
      ...(this.props.environment.minReplicas <= 1 ? { minAvailable: one } : { maxUnavailable: one }),
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: this.selector() },
    };
  }

  private scalingBehavior() {
    const env = this.props.environment;
    return {
      scaleUp: { stabilizationWindowSeconds: env.scaleUpWindow.toSeconds() },
      scaleDown: { stabilizationWindowSeconds: env.scaleDownDelay.toSeconds() },
    };
  }

  /** KEDA sends the query as written: every placeholder is known here, the version included. */
  private fillQuery(query: string): string {
    const { model, version: v, environment: env } = this.props;
    return fillPlaceholders(query, { model: model.name, environment: env.name, version: v.name, namespace: env.namespace ?? 'default' });
  }

  private metadata(): k8s.ObjectMeta {
    return { name: this.objectName, namespace: this.props.environment.namespace, labels: this.labels() };
  }

  private labels(): { [key: string]: string } {
    return { ...this.props.environment.labels, [LABEL_VERSION]: this.props.version.name };
  }

  private selector(): { [key: string]: string } {
    const { model, version: v, environment: env } = this.props;
    return { [LABEL_MODEL]: model.name, [LABEL_ENVIRONMENT]: env.name, [LABEL_VERSION]: v.name };
  }
}

/**
 * An HPA cannot hold zero (minReplicas >= 1 without the alpha HPAScaleToZero gate), so only the version the
 * environment serves gets one; every other version has no autoscaler and a replica count the step controller sets
 * through deployments/scale. With an HPA on a Deployment at 0 replicas the HPA is inactive
 * (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#implicit-maintenance-mode-deactivation).
 */
function autoscalerKindOf(env: WorkloadEnvironment, role: VersionRole): AutoscalerKind {
  if (env.scalesToZero) return 'http';
  if (env.autoscaler.kind === 'keda') return 'keda';
  return env.active && role === VersionRole.CURRENT ? 'hpa' : 'none';
}
