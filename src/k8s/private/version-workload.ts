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
import { Autoscaler } from '../autoscaling';
import { IModel, IModelVersion } from '../contracts';
import * as errors from '../errors';

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
}

export class VersionWorkload extends Construct {
  /** Names of the objects, for routes and the step controller. */
  public readonly backend: KubernetesBackend;
  /** Name shared by the Deployment, Service, PDB and autoscaler. */
  public readonly objectName: string;

  private autoscalerObject?: ApiObject;

  constructor(scope: Construct, id: string, props: VersionWorkloadProps) {
    super(scope, id);
    const { model, version: v, environment: env, role } = props;
    this.objectName = `${model.name}-${env.name}-${v.name}`;
    if (this.objectName.length > 63) throw errors.nameTooLong(this.node.path, 'name', this.objectName, 63);
    const name = this.objectName;
    const labels = { ...env.labels, 'model-rollout.dev/version': v.name };
    const selector = { 'model-rollout.dev/model': model.name, 'model-rollout.dev/environment': env.name, 'model-rollout.dev/version': v.name };
    const metadata = { name, namespace: env.namespace, labels };
    const floor = () => {
      if (!env.active) return 0;
      const r = role();
      return r === VersionRole.CURRENT || r === VersionRole.WARM ? env.minReplicas : 0;
    };
    const max = Math.min(env.maxReplicas, v.maxReplicas ?? env.maxReplicas);
    const autoscaler = env.scalesToZero ? 'http' : env.autoscaler.kind;

    const gpu = v.gpu;
    const resources: Record<string, k8s.Quantity> = {
      cpu: k8s.Quantity.fromString(v.cpu.amount),
      memory: k8s.Quantity.fromString(`${v.memory.toMebibytes()}Mi`),
      ...(gpu ? { [NVIDIA_GPU_RESOURCE]: k8s.Quantity.fromNumber(gpu.count) } : {}),
    };
    const restricted = !model.allowRoot;
    const probePeriod = 10;
    new k8s.KubeDeployment(this, 'Resource', {
      metadata,
      spec: {
        // with an autoscaler the replica count is the autoscaler's; without one (HPA absent) the floor
        replicas: autoscaler === 'http'
          ? Lazy.any({ produce: () => (env.active && role() === VersionRole.CURRENT ? undefined : 0) })
          : env.active ? undefined : 0,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: restricted
              ? { runAsNonRoot: true, runAsUser: model.runAsUser, fsGroup: model.runAsUser, seccompProfile: { type: 'RuntimeDefault' } }
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
              ports: [{ name: 'http', containerPort: v.port }],
              env: [
                ...Object.entries(v.env).sort(([a], [b]) => a.localeCompare(b)).map(([n, value]) => ({ name: n, value })),
                { name: ENV_MODEL_ENVIRONMENT, value: env.name },
              ],
              resources: { requests: resources, limits: resources },
              // large models load for minutes: the startup probe gives them `loadTimeout` before any restart
              startupProbe: {
                httpGet: { path: v.healthPath, port: k8s.IntOrString.fromNumber(v.port) },
                periodSeconds: probePeriod,
                failureThreshold: Math.max(1, Math.ceil(v.loadTimeout.toSeconds() / probePeriod)),
              },
              readinessProbe: { httpGet: { path: v.healthPath, port: k8s.IntOrString.fromNumber(v.port) }, periodSeconds: 5, failureThreshold: 3 },
              livenessProbe: { httpGet: { path: v.healthPath, port: k8s.IntOrString.fromNumber(v.port) }, periodSeconds: 20, failureThreshold: 6 },
              securityContext: restricted
                ? { allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } }
                : undefined,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'shm', mountPath: '/dev/shm' }],
            }],
            volumes: [
              { name: 'tmp', emptyDir: {} },
              // model servers share tensors between processes through /dev/shm
              { name: 'shm', emptyDir: { medium: 'Memory' } },
            ],
          },
        },
      },
    });

    new k8s.KubeService(this, 'Service', {
      metadata,
      spec: { selector, ports: [{ name: 'http', port: v.port, targetPort: k8s.IntOrString.fromNumber(v.port) }] },
    });

    // voluntary disruptions (node drains, consolidation) take one replica at a time
    new k8s.KubePodDisruptionBudget(this, 'Budget', {
      metadata,
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
    });

    const scaleUp = env.scaleUpWindow.toSeconds();
    const scaleDown = env.scaleDownDelay.toSeconds();
    const substitute = (q: string) => q
      .replace(/\{\{\s*model\s*\}\}/g, model.name)
      .replace(/\{\{\s*environment\s*\}\}/g, env.name)
      .replace(/\{\{\s*version\s*\}\}/g, v.name)
      .replace(/\{\{\s*namespace\s*\}\}/g, env.namespace ?? 'default');
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
          triggers: [{
            type: 'prometheus',
            metadata: {
              serverAddress: env.autoscaler.prometheusUrl!,
              query: substitute(env.autoscaler.inFlightQuery!),
              threshold: String(env.concurrencyTarget),
            },
          }],
        },
      });
    } else if (env.active) {
      // an HPA cannot hold zero replicas: an inactive environment has none, and its Deployment is at 0
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
    if (!this.autoscalerObject) return;
    const field = this.autoscalerObject.kind === 'ScaledObject' ? 'spec.minReplicaCount' : 'spec.minReplicas';
    this.autoscalerObject.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, field);
  }
}
