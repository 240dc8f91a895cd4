/**
 * Constants shared by the constructs (synth time) and the step controller (run time).
 * Changing one here changes both sides at once: never spell these strings anywhere else.
 */

/** The controller ticks once a minute (CronJob `* * * * *`, EventBridge `rate(1 minute)`). */
export const TICK_SECONDS = 60;

/**
 * Default seconds between two ticks of a rollout in progress (the `tickInterval` prop of the Kubernetes rollout):
 * the schedule fires once a minute (TICK_SECONDS) and the controller ticks again within the run. 10 s is the
 * smallest interval the validation allows; it is what brings the exposure to a faulty canary at or below Flagger's
 * best (a 30 s `analysis.interval`) at 50 and 500 requests/s (bench/results/rollout-sim.md).
 */
export const DEFAULT_TICK_SECONDS = 10;

/** Default schedule: 10 equal steps over 10 minutes (Baseten's promotion ramp). */
export const DEFAULT_STEP_COUNT = 10;
export const DEFAULT_WINDOW_SECONDS = 600;

/**
 * The default shadow step's longest mirroring (`Steps.equal()` starts with a shadow step): at 5 requests/s mirrored,
 * the error test passes a healthy canary after about 250 requests (under a minute) and fails a 2 % one after about
 * 150; the cap only matters for models with little traffic, which then start the ramp after 5 minutes of copies.
 */
export const DEFAULT_SHADOW_MAX_SECONDS = 300;

/** GPU cold starts are slow: a canary not ready within this window aborts the rollout. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 15 * 60;

/** Capacity look-ahead of the controller: floors rise for what the schedule needs within this window. */
export const DEFAULT_PREWARM_SECONDS = 300;

/** Node label that GPU node pools set and Model pods select on (Karpenter NodePool / EKS node group labels). */
export const GPU_PRODUCT_LABEL = 'model-rollout.dev/gpu-product';
/** Extended resource and taint key of the NVIDIA device plugin. */
export const NVIDIA_GPU_RESOURCE = 'nvidia.com/gpu';

/** Labels on every object a Model renders. */
export const LABEL_MODEL = 'model-rollout.dev/model';
export const LABEL_VERSION = 'model-rollout.dev/version';
export const LABEL_ENVIRONMENT = 'model-rollout.dev/environment';
export const LABEL_ROLLOUT = 'model-rollout.dev/rollout';

/** Annotation on objects whose live fields (route weights, replica floors) the controller owns. */
export const ANNOTATION_CONTROLLER_OWNED = 'model-rollout.dev/controller-owned-fields';
/** Annotation carrying the rollout spec hash on synthesized objects. */
export const ANNOTATION_SPEC_HASH = 'model-rollout.dev/spec-hash';

/** Environment variable that carries an environment's name into model pods. */
export const ENV_MODEL_ENVIRONMENT = 'MODEL_ENVIRONMENT';

/** Keys of the rollout ConfigMap (Kubernetes) / fields of the SSM spec parameter's document (AWS). */
export const STATE_KEY_SPEC = 'spec.json';
export const STATE_KEY_STATE = 'state.json';
export const STATE_KEY_COMMAND = 'command.json';

/** Key of the target document (where the routes and workloads live) beside the spec. */
export const STATE_KEY_TARGET = 'target.json';

/**
 * Environment variables the controller entrypoints read.
 * Kubernetes: the spec ConfigMap is written by the manifests (kubectl/Argo CD/Terraform own it); the state
 * ConfigMap is synthesized empty and only the controller writes its data, so re-applying never resets progress.
 * AWS: the spec in an SSM parameter (Terraform writes it), state and commands in a DynamoDB table (below).
 */
export const ENV_CONTROLLER_NAMESPACE = 'ROLLOUT_NAMESPACE';
export const ENV_CONTROLLER_SPEC_CONFIGMAP = 'ROLLOUT_SPEC_CONFIGMAP';
export const ENV_CONTROLLER_STATE_CONFIGMAP = 'ROLLOUT_STATE_CONFIGMAP';
export const ENV_CONTROLLER_SSM_SPEC_PARAMETER = 'ROLLOUT_SSM_SPEC_PARAMETER';
/** Conventional names of a rollout's ConfigMaps (Kubernetes) and SSM spec parameter (AWS); the CLI defaults to them. */
export function specConfigMapName(rollout: string): string {
  return `${rollout}-rollout-spec`;
}
export function stateConfigMapName(rollout: string): string {
  return `${rollout}-rollout-state`;
}
export function specParameterName(rollout: string): string {
  return `/model-rollout/${rollout}/spec`;
}

/**
 * AWS: the DynamoDB table of a rollout's state and commands (conditional writes: a compare-and-swap SSM lacks).
 * The spec stays in the SSM spec parameter (Terraform-owned), which also names the table for the CLI.
 */
export const ENV_CONTROLLER_DYNAMODB_TABLE = 'ROLLOUT_DYNAMODB_TABLE';
/** Conventional name of a rollout's state table (AWS): 3 to 255 characters of [A-Za-z0-9_.-]. */
export function stateTableName(rollout: string): string {
  return `model-rollout-${rollout}`;
}

/** EventBridge schedule that ticks the Lambda (AWS target): disabled by the controller once the rollout is over. */
export const ENV_CONTROLLER_SCHEDULE_NAME = 'ROLLOUT_SCHEDULE_NAME';

/** EKS cluster of the workloads (AWS target): name, API endpoint and base64 CA, for replica floors. */
export const ENV_CONTROLLER_EKS_CLUSTER = 'ROLLOUT_EKS_CLUSTER';
export const ENV_CONTROLLER_EKS_ENDPOINT = 'ROLLOUT_EKS_ENDPOINT';
export const ENV_CONTROLLER_EKS_CA = 'ROLLOUT_EKS_CA';
export const ENV_CONTROLLER_PROMETHEUS_URL = 'ROLLOUT_PROMETHEUS_URL';
/** File holding the PEM CA bundle that signed Prometheus' certificate (mounted from a ConfigMap or Secret). */
export const ENV_CONTROLLER_PROMETHEUS_CA_FILE = 'ROLLOUT_PROMETHEUS_CA_FILE';
/** File holding a bearer token for Prometheus (a mounted Secret key, or a token the pod already has). */
export const ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE = 'ROLLOUT_PROMETHEUS_TOKEN_FILE';
/** Directory holding `username` and `password` files for Prometheus' basic auth (a mounted Secret). */
export const ENV_CONTROLLER_PROMETHEUS_BASIC_AUTH_DIR = 'ROLLOUT_PROMETHEUS_BASIC_AUTH_DIR';

/** Header the gateway's bucket filter sets from the hash of the sticky key (value 0..99). */
export const BUCKET_HEADER = 'x-model-rollout-bucket';
/** Number of hash buckets: one per whole percent of weight. */
export const BUCKET_COUNT = 100;

/** File suffixes of the plan written beside the manifests. */
export const PLAN_MARKDOWN_SUFFIX = '.rollout.md';
export const PLAN_JSON_SUFFIX = '.rollout.json';
