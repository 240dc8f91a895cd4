/**
 * The pod of one version in one environment, as a pure function of the model, the version and the model's pod
 * settings: what `VersionWorkload` renders into its Deployment's `spec.template`.
 */
import { k8s } from 'cdk8s-plus-33';
import { ENV_MODEL_ENVIRONMENT, NVIDIA_GPU_RESOURCE } from '../../core/constants';
import { IModel, IModelVersion } from '../contracts';
import { PodSettings } from './hosts';

/** Where the cache volume is mounted; HOME and every cache directory point into it. */
const CACHE_MOUNT = '/cache';

/** Seconds between startup probes: `loadTimeout` divided by it is the startup probe's failure threshold. */
const STARTUP_PROBE_PERIOD_SECONDS = 10;

/** What a pod template is rendered from. */
export interface PodTemplateInput {
  readonly model: IModel;
  readonly version: IModelVersion;
  /** Name of the environment (the pods' `MODEL_ENVIRONMENT`). */
  readonly environment: string;
  /** Labels of the pods. */
  readonly labels: { [key: string]: string };
  readonly pod: PodSettings;
}

/**
 * Writable locations for a non-root user without a home directory (HOME is `/` for uid 1000 in the vLLM image, and
 * vLLM, Hugging Face and Triton then crash-loop writing `/.cache`:
 * https://github.com/vllm-project/vllm/issues/10185, https://github.com/vllm-project/vllm/issues/9118).
 * HF_HOME: https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#hfhome;
 * VLLM_CACHE_ROOT / VLLM_CONFIG_ROOT default to XDG_CACHE_HOME/vllm and XDG_CONFIG_HOME/vllm
 * (https://docs.vllm.ai/en/stable/configuration/env_vars/); TRITON_CACHE_DIR defaults to ~/.triton/cache.
 * A variable the user sets wins.
 */
function cacheEnv(): Record<string, string> {
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

/** The pod template: scheduling, security context and volumes around the one `model` container. */
export function renderPodTemplate(input: PodTemplateInput): k8s.PodTemplateSpec {
  const { model, version: v, pod } = input;
  const gpu = v.gpu;
  return {
    metadata: { labels: input.labels, annotations: Object.keys(pod.annotations).length > 0 ? { ...pod.annotations } : undefined },
    spec: {
      serviceAccountName: pod.serviceAccountName,
      // no API token unless the pods run as a ServiceAccount the user chose (IRSA / Pod Identity need it)
      automountServiceAccountToken: pod.serviceAccountName !== undefined,
      imagePullSecrets: pod.imagePullSecrets.length > 0 ? pod.imagePullSecrets.map((secret) => ({ name: secret })) : undefined,
      // long generations finish before the kill (the default 30 s cuts them)
      terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
      securityContext: model.allowRoot
        ? undefined
        : { runAsNonRoot: true, runAsUser: model.runAsUser, runAsGroup: model.runAsUser, fsGroup: model.runAsUser, seccompProfile: { type: 'RuntimeDefault' } },
      tolerations: gpu ? [{ key: NVIDIA_GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
      affinity: gpu ? {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            // the product's node selector (this library's label, GPU Feature Discovery's, or the user's), checked at `Gpu._validate`
            nodeSelectorTerms: [{ matchExpressions: [{ ...gpu.product._nodeRequirement('', 'gpu.product.nodeSelector'), operator: 'In' }] }],
          },
        },
      } : undefined,
      containers: [renderContainer(input)],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        // model servers share tensors between processes through /dev/shm
        { name: 'shm', emptyDir: { medium: 'Memory' } },
        pod.cache.claimName
          ? { name: 'cache', persistentVolumeClaim: { claimName: pod.cache.claimName } }
          : { name: 'cache', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${pod.cache.sizeGiB}Gi`) } },
      ],
    },
  };
}

/** The model server's container: image, ports, environment, resources, probes and drain. */
function renderContainer(input: PodTemplateInput): k8s.Container {
  const { model, version: v, pod } = input;
  const resources = containerResources(v, pod);
  const probeTimeout = pod.probeTimeoutSeconds;
  const load = v.loadTimeout.toSeconds();
  const healthGet = { path: v.healthPath, port: k8s.IntOrString.fromNumber(v.port) };
  return {
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
    env: containerEnv(input),
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
      periodSeconds: STARTUP_PROBE_PERIOD_SECONDS,
      timeoutSeconds: probeTimeout,
      failureThreshold: Math.max(1, Math.ceil(load / STARTUP_PROBE_PERIOD_SECONDS)),
    },
    readinessProbe: { httpGet: healthGet, periodSeconds: 5, timeoutSeconds: probeTimeout, failureThreshold: 3 },
    // liveness restarts a dead engine, never a busy one: a saturated vLLM answers /health late
    // (https://github.com/scaleapi/llm-engine/issues/255), so it takes 10 failures 30 s apart (5 minutes) with the
    // long timeout
    livenessProbe: { httpGet: healthGet, periodSeconds: 30, timeoutSeconds: probeTimeout, failureThreshold: 10 },
    // keep serving while gateways and kube-proxy drop the endpoint, then SIGTERM; the sleep action needs
    // no shell in the image (Kubernetes 1.30+, PodLifecycleSleepAction)
    // https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/#hook-handler-implementations
    lifecycle: { preStop: { sleep: { seconds: pod.drainDelaySeconds } } },
    securityContext: model.allowRoot
      ? undefined
      : { allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'shm', mountPath: '/dev/shm' }, { name: 'cache', mountPath: CACHE_MOUNT }],
  };
}

/** Requests and limits (equal): CPU, memory, the cache's ephemeral storage and the GPUs. */
function containerResources(v: IModelVersion, pod: PodSettings): Record<string, k8s.Quantity> {
  return {
    cpu: k8s.Quantity.fromString(v.cpu.amount),
    memory: k8s.Quantity.fromString(`${v.memory.toMebibytes()}Mi`),
    // the emptyDir cache holds the weights: request its size so the pod only lands where it fits
    ...(pod.cache.sizeGiB !== undefined ? { 'ephemeral-storage': k8s.Quantity.fromString(`${pod.cache.sizeGiB}Gi`) } : {}),
    ...(v.gpu ? { [NVIDIA_GPU_RESOURCE]: k8s.Quantity.fromNumber(v.gpu.count) } : {}),
  };
}

/** The cache locations (unless the user sets them), the version's variables, the Secret references, the environment. */
function containerEnv(input: PodTemplateInput): k8s.EnvVar[] {
  const { version: v, pod } = input;
  const userEnv = new Set(Object.keys(v.env).concat(pod.secretEnv.map((e) => e.name)));
  return [
    ...Object.entries(cacheEnv()).filter(([n]) => !userEnv.has(n)).map(([name, value]) => ({ name, value })),
    ...Object.entries(v.env).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
    ...pod.secretEnv.map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secretName, key: e.key } } })),
    { name: ENV_MODEL_ENVIRONMENT, value: input.environment },
  ];
}
