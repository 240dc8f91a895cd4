/**
 * One version's workload in one environment: Deployment, Service, PodDisruptionBudget and autoscaler (KEDA
 * ScaledObject, or an HPA; with scale to zero the environment's one HTTPScaledObject scales whichever version is
 * current). Internal: environments create it; users reach its objects through `node.findChild()` (the escape
 * hatch), e.g. `environment.node.findChild('VersionV2').node.findChild('Resource')` for the Deployment.
 */
import { ApiObject, Duration, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { ANNOTATION_CONTROLLER_OWNED, ENV_MODEL_ENVIRONMENT, GPU_PRODUCT_LABEL, NVIDIA_GPU_RESOURCE } from '../../core/constants';
import { KubernetesBackend } from '../../core/contract/target';
import { fillPlaceholders } from '../../core/placeholders';
import { Autoscaler } from '../autoscaling';
import { IModel, IModelVersion } from '../contracts';
import * as errors from '../errors';
import { PodSettings } from './hosts';

/** The in-flight query of a model with no serving engine: a metric the model server must export itself. */
export const LEGACY_IN_FLIGHT_QUERY = 'sum(model_inflight_requests{model="{{model}}",environment="{{environment}}",version="{{version}}"})';

/** Where the cache volume is mounted; HOME and every cache directory point into it. */
export const CACHE_MOUNT = '/cache';

/**
 * Time Karpenter needs to launch a GPU node and the kubelet to pull a multi-GB image before the model starts
 * loading; added to `loadTimeout` for the Deployment's progress deadline, the KEDA interceptor's wait and the
 * rollout's progress deadline.
 */
export const NODE_PROVISIONING_SECONDS = 10 * 60;

/**
 * Writable locations for a non-root user without a home directory (HOME is `/` for uid 1000 in the vLLM image, and
 * vLLM, Hugging Face and Triton then crash-loop writing `/.cache`: vllm-project/vllm#10185, #9118).
 * HF_HOME: https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#hfhome;
 * VLLM_CACHE_ROOT / VLLM_CONFIG_ROOT default to XDG_CACHE_HOME/vllm and XDG_CONFIG_HOME/vllm
 * (https://docs.vllm.ai/en/stable/configuration/env_vars/); TRITON_CACHE_DIR defaults to ~/.triton/cache.
 * A variable the user sets wins.
 */
export function cacheEnv(): Record<string, string> {
  return {
    HOME: CACHE_MOUNT,
    XDG_CACHE_HOME: `${CACHE_MOUNT}/.cache`,
    XDG_CONFIG_HOME: `${CACHE_MOUNT}/.config`,
    HF_HOME: `${CACHE_MOUNT}/huggingface`,
    VLLM_CACHE_ROOT: `${CACHE_MOUNT}/vllm`,
    VLLM_CONFIG_ROOT: `${CACHE_MOUNT}/.config/vllm`,
    TRITON_CACHE_DIR: `${CACHE_MOUNT}/triton`,
  };
}

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
  readonly labels: { [key: string]: string };
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

export class VersionWorkload extends Construct {
  /** Names of the objects, for routes and the step controller. */
  public readonly backend: KubernetesBackend;
  /** Name shared by the Deployment, Service, PDB and autoscaler. */
  public readonly objectName: string;

  /** The Deployment (escape hatch: `ApiObject.of(...)`/`addJsonPatch`). */
  public readonly deployment: ApiObject;

  private autoscalerObject?: ApiObject;
  private floorOwned = false;

  constructor(scope: Construct, id: string, props: VersionWorkloadProps) {
    super(scope, id);
    const { model, version: v, environment: env, role, pod } = props;
    this.objectName = `${model.name}-${env.name}-${v.name}`;
    if (this.objectName.length > 63) throw errors.nameTooLong(this.node.path, 'name', this.objectName, 63);
    const name = this.objectName;
    const labels = { ...env.labels, 'model-rollout.dev/version': v.name };
    const selector = { 'model-rollout.dev/model': model.name, 'model-rollout.dev/environment': env.name, 'model-rollout.dev/version': v.name };
    const metadata = { name, namespace: env.namespace, labels };
    const floor = () => {
      if (!env.active) return 0;
      const fixed = props.fixedFloor?.();
      if (fixed !== undefined) return fixed;
      const r = role();
      return r === VersionRole.CURRENT || r === VersionRole.WARM ? env.minReplicas : 0;
    };
    const max = Math.min(env.maxReplicas, v.maxReplicas ?? env.maxReplicas);

    const gpu = v.gpu;
    const cache = pod.cache;
    const resources: Record<string, k8s.Quantity> = {
      cpu: k8s.Quantity.fromString(v.cpu.amount),
      memory: k8s.Quantity.fromString(`${v.memory.toMebibytes()}Mi`),
      // the emptyDir cache holds the weights: request its size so the pod only lands where it fits
      ...(cache.sizeGiB !== undefined ? { 'ephemeral-storage': k8s.Quantity.fromString(`${cache.sizeGiB}Gi`) } : {}),
      ...(gpu ? { [NVIDIA_GPU_RESOURCE]: k8s.Quantity.fromNumber(gpu.count) } : {}),
    };
    const restricted = !model.allowRoot;
    const probePeriod = 10;
    const probeTimeout = pod.probeTimeoutSeconds;
    const load = v.loadTimeout.toSeconds();
    const healthGet = { path: v.healthPath, port: k8s.IntOrString.fromNumber(v.port) };
    // HPA: an HPA cannot hold zero (minReplicas >= 1 without the alpha HPAScaleToZero gate), so only the version the
    // environment serves gets one; every other version has no autoscaler and a replica count the step controller
    // sets through deployments/scale. With an HPA on a Deployment at 0 replicas the HPA is inactive
    // (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#implicit-maintenance-mode-deactivation).
    const autoscaler = env.scalesToZero ? 'http' : env.autoscaler.kind;
    const hasHpa = autoscaler === 'hpa' && env.active && role() === VersionRole.CURRENT;
    const userEnv = new Set(Object.keys(v.env).concat(pod.secretEnv.map((e) => e.name)));
    const baseEnv = Object.entries(cacheEnv()).filter(([n]) => !userEnv.has(n));
    this.deployment = new k8s.KubeDeployment(this, 'Resource', {
      metadata,
      spec: {
        // Versions that serve start at their floor, every other version at 0 replicas: a Deployment without
        // `replicas` starts with 1 (a GPU node launched on every fresh apply before the autoscaler scales it down).
        // The serving version leaves `replicas` to its autoscaler (KEDA, HPA, or the HTTP add-on).
        replicas: Lazy.any({
          produce: () => {
            if (!env.active) return 0;
            // A version whose floor the step controller owns leaves `replicas` out: re-applying `replicas: 0` would
            // scale a live canary to zero at once (client-side apply patches every field it carries), and the
            // controller raises its floor at its first tick anyway (pre-warm), so starting at 1 costs nothing.
            if (this.floorOwned) return undefined;
            const r = role();
            if (autoscaler === 'http') return r === VersionRole.CURRENT ? undefined : 0;
            if (autoscaler === 'keda') return r === VersionRole.IDLE && props.fixedFloor?.() === undefined ? 0 : undefined;
            return hasHpa && r === VersionRole.CURRENT ? undefined : floor();
          },
        }),
        // a scale-up waits for a GPU node and a 15-25 minute load: Kubernetes' 600 s default reports every such
        // rollout as ProgressDeadlineExceeded (Argo CD: Degraded)
        // https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#progress-deadline-seconds
        progressDeadlineSeconds: load + NODE_PROVISIONING_SECONDS,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels, annotations: Object.keys(pod.annotations).length > 0 ? { ...pod.annotations } : undefined },
          spec: {
            serviceAccountName: pod.serviceAccountName,
            // no API token unless the pods run as a ServiceAccount the user chose (IRSA / Pod Identity need it)
            automountServiceAccountToken: pod.serviceAccountName !== undefined,
            imagePullSecrets: pod.imagePullSecrets.length > 0 ? pod.imagePullSecrets.map((secret) => ({ name: secret })) : undefined,
            // long generations finish before the kill (the default 30 s cuts them)
            terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
            securityContext: restricted
              ? { runAsNonRoot: true, runAsUser: model.runAsUser, runAsGroup: model.runAsUser, fsGroup: model.runAsUser, seccompProfile: { type: 'RuntimeDefault' } }
              : undefined,
            tolerations: gpu ? [{ key: NVIDIA_GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
            affinity: gpu ? {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: GPU_PRODUCT_LABEL, operator: 'In', values: [gpu.product.name] }] }],
                },
              },
            } : undefined,
            containers: [{
              name: 'model',
              image: v.image,
              command: v.command,
              args: v.args,
              ports: [
                { name: 'http', containerPort: v.port },
                // an engine serving metrics on another port (Triton: 8002) gets it named for the PodMonitor
                ...(pod.servingEngine?.metricsPort !== undefined && pod.servingEngine.metricsPort !== v.port
                  ? [{ name: 'metrics', containerPort: pod.servingEngine.metricsPort }] : []),
              ],
              env: [
                ...baseEnv.map(([n, value]) => ({ name: n, value })),
                ...Object.entries(v.env).sort(([a], [b]) => a.localeCompare(b)).map(([n, value]) => ({ name: n, value })),
                ...pod.secretEnv.map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secretName, key: e.key } } })),
                { name: ENV_MODEL_ENVIRONMENT, value: env.name },
              ],
              envFrom: pod.envFromSecrets.length + pod.envFromConfigMaps.length > 0
                ? [
                  ...pod.envFromSecrets.map((secret) => ({ secretRef: { name: secret } })),
                  ...pod.envFromConfigMaps.map((configMap) => ({ configMapRef: { name: configMap } })),
                ]
                : undefined,
              resources: { requests: resources, limits: resources },
              // large models load for minutes: the startup probe gives them `loadTimeout` before any restart
              startupProbe: {
                httpGet: healthGet,
                periodSeconds: probePeriod,
                timeoutSeconds: probeTimeout,
                failureThreshold: Math.max(1, Math.ceil(load / probePeriod)),
              },
              readinessProbe: { httpGet: healthGet, periodSeconds: 5, timeoutSeconds: probeTimeout, failureThreshold: 3 },
              // liveness restarts a dead engine, never a busy one: a saturated vLLM answers /health late
              // (scaleapi/llm-engine#255), so it takes 10 failures 30 s apart (5 minutes) with the long timeout
              livenessProbe: { httpGet: healthGet, periodSeconds: 30, timeoutSeconds: probeTimeout, failureThreshold: 10 },
              // keep serving while gateways and kube-proxy drop the endpoint, then SIGTERM; the sleep action needs
              // no shell in the image (Kubernetes 1.30+, PodLifecycleSleepAction)
              // https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/#hook-handler-implementations
              lifecycle: { preStop: { sleep: { seconds: pod.drainDelaySeconds } } },
              securityContext: restricted
                ? { allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } }
                : undefined,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'shm', mountPath: '/dev/shm' }, { name: 'cache', mountPath: CACHE_MOUNT }],
            }],
            volumes: [
              { name: 'tmp', emptyDir: {} },
              // model servers share tensors between processes through /dev/shm
              { name: 'shm', emptyDir: { medium: 'Memory' } },
              cache.claimName
                ? { name: 'cache', persistentVolumeClaim: { claimName: cache.claimName } }
                : { name: 'cache', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${cache.sizeGiB}Gi`) } },
            ],
          },
        },
      },
    });

    new k8s.KubeService(this, 'Service', {
      metadata,
      spec: { selector, ports: [{ name: 'http', port: v.port, targetPort: k8s.IntOrString.fromNumber(v.port) }] },
    });

    // voluntary disruptions (node drains, drift) take one replica at a time; with a floor of 1 the only replica is
    // never evicted (minAvailable 1): a drain waits for the operator to scale up, instead of an outage. Unready pods
    // may always go, so a crash-looping pod never blocks a drain
    // (https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy)
    new k8s.KubePodDisruptionBudget(this, 'Budget', {
      metadata,
      spec: {
        ...(env.minReplicas <= 1 ? { minAvailable: k8s.IntOrString.fromNumber(1) } : { maxUnavailable: k8s.IntOrString.fromNumber(1) }),
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
        selector: { matchLabels: selector },
      },
    });

    const scaleUp = env.scaleUpWindow.toSeconds();
    const scaleDown = env.scaleDownDelay.toSeconds();
    // KEDA sends the query as written: every placeholder is known here, the version included
    const substitute = (q: string) => fillPlaceholders(q, { model: model.name, environment: env.name, version: v.name, namespace: env.namespace ?? 'default' });
    let scaledObject: string | undefined;
    let hpa: string | undefined;
    if (autoscaler === 'http') {
      // scale to zero: the environment's one HTTPScaledObject targets whichever version is current
    } else if (autoscaler === 'keda') {
      scaledObject = name;
      this.autoscalerObject = new ApiObject(this, 'Autoscaler', {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: {
          ...metadata,
          // an inactive environment keeps its autoscaler's settings, paused at zero replicas
          annotations: env.active ? undefined : { 'autoscaling.keda.sh/paused-replicas': '0' },
        },
        spec: {
          scaleTargetRef: { name, kind: 'Deployment', apiVersion: 'apps/v1' },
          minReplicaCount: Lazy.any({ produce: () => floor() }),
          maxReplicaCount: max,
          cooldownPeriod: scaleDown,
          advanced: {
            horizontalPodAutoscalerConfig: {
              behavior: {
                scaleUp: { stabilizationWindowSeconds: scaleUp },
                scaleDown: { stabilizationWindowSeconds: scaleDown },
              },
            },
          },
          // an empty answer is not zero load: KEDA's default (ignoreNullValues true) reads it as 0 and never scales
          // up; with false the scaler errors, and after `failureThreshold` errors KEDA applies the fallback
          // (https://keda.sh/docs/2.16/scalers/prometheus/, https://keda.sh/docs/2.16/reference/scaledobject-spec/#fallback).
          // The fallback works through the HPA, which still clamps to minReplicaCount (the controller's floor).
          fallback: {
            failureThreshold: env.autoscaler.fallbackFailureThreshold ?? 3,
            replicas: Lazy.any({
              produce: () => (role() === VersionRole.CURRENT ? Math.min(max, Math.max(floor(), env.autoscaler.fallbackReplicas ?? max)) : floor()),
            }),
          },
          triggers: [{
            type: 'prometheus',
            metadata: {
              serverAddress: env.autoscaler.prometheusUrl!,
              query: substitute(env.autoscaler.inFlightQuery ?? pod.servingEngine?.inFlightQuery ?? LEGACY_IN_FLIGHT_QUERY),
              threshold: String(env.concurrencyTarget),
              ignoreNullValues: 'false',
              ...(env.autoscaler.authModes ? { authModes: env.autoscaler.authModes } : {}),
              ...(env.autoscaler.customHeaders ? { customHeaders: env.autoscaler.customHeaders } : {}),
            },
            ...(env.autoscaler.triggerAuthentication ? { authenticationRef: { name: env.autoscaler.triggerAuthentication } } : {}),
          }],
        },
      });
    } else if (hasHpa) {
      // an HPA cannot hold zero replicas: only the serving version of an active environment has one (see above)
      hpa = name;
      this.autoscalerObject = new k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
        metadata,
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas: Lazy.any({ produce: () => Math.max(1, floor()) }),
          maxReplicas: max,
          metrics: [{
            type: 'Pods',
            pods: { metric: { name: env.autoscaler.metricName! }, target: { type: 'AverageValue', averageValue: k8s.Quantity.fromNumber(env.concurrencyTarget) } },
          }],
          behavior: {
            scaleUp: { stabilizationWindowSeconds: scaleUp },
            scaleDown: { stabilizationWindowSeconds: scaleDown },
          },
        },
      });
    }

    this.backend = {
      service: name,
      port: v.port,
      deployment: name,
      scaledObject,
      hpa,
      baseReplicas: env.minReplicas,
    };
  }

  /** Mark the replica floor as owned by the step controller (Argo CD ignoreDifferences, the Terraform bridge). */
  public markFloorOwned(): void {
    this.floorOwned = true;
    if (!this.autoscalerObject) {
      // no autoscaler: the controller sets the Deployment's replicas through deployments/scale
      this.deployment.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, 'spec.replicas');
      return;
    }
    // the controller writes the floor, and on KEDA also maxReplicaCount (so a floor above the maximum is honoured)
    const fields = this.autoscalerObject.kind === 'ScaledObject' ? 'spec.minReplicaCount,spec.maxReplicaCount' : 'spec.minReplicas';
    this.autoscalerObject.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, fields);
  }
}
