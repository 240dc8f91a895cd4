import { ApiObject, Duration, Size } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { IModel } from './contracts';
import * as errors from './errors';
import { GPU_PRODUCT_LABEL, NVIDIA_GPU_RESOURCE } from '../core/constants';
import { GpuNodeSelector, GpuProduct } from '../rollout/gpu';

/** The EC2NodeClass the GPU NodePools launch with. */
export interface GpuNodeClassOptions {
  /** IAM role of the nodes (name). */
  readonly role: string;
  /**
   * Value of the `karpenter.sh/discovery` tag on the cluster's subnets and security groups.
   */
  readonly discoveryTag: string;
  /**
   * AMI alias; AL2023 selects the NVIDIA variant for GPU instance types.
   * @default 'al2023@latest'
   */
  readonly amiAlias?: string;
  /**
   * Root volume size (model images are large).
   * @default Size.gibibytes(200)
   */
  readonly rootVolumeSize?: Size;
}

/** The daily window in which Karpenter may replace drifted nodes (new AMI, changed node class), one at a time. */
export interface DriftWindow {
  /** Hour (UTC, 0..23) the window opens. */
  readonly startHourUtc: number;
  /** Length of the window, in whole hours (1..23). */
  readonly length: Duration;
}

/** Props of `GpuNodePools`. */
export interface GpuNodePoolsProps {
  /** The models whose versions' GPU products get a pool. */
  readonly models: IModel[];
  /** The node class. */
  readonly nodeClass: GpuNodeClassOptions;
  /**
   * GPU budget of each pool: Karpenter launches no node past this many GPUs.
   * @default 16
   */
  readonly maxGpus?: number;
  /**
   * How long an empty node waits before Karpenter removes it.
   * @default Duration.minutes(10)
   */
  readonly consolidateAfter?: Duration;
  /**
   * Products to provide beyond the ones the versions need.
   * @default - none
   */
  readonly extraProducts?: GpuProduct[];
  /**
   * Node lifetime: Karpenter v1 expires nodes forcefully, ignoring disruption budgets and waiting for PDBs only up
   * to the node's terminationGracePeriod, so nodes serving a model are drained at this age. Its default (720h)
   * drains serving GPU nodes every 30 days; nodes are replaced by drift in the drift window instead.
   * @default - never: nodes are replaced through drift, in the drift window
   */
  readonly expireAfter?: Duration;
  /**
   * When drifted nodes (new AMI from `al2023@latest`, changed node class) may be replaced, one node at a time;
   * outside the window drift waits. A node whose only replica has a PodDisruptionBudget waits for a scale-up.
   * @default { startHourUtc: 2, length: Duration.hours(4) }
   */
  readonly driftWindow?: DriftWindow;
  /**
   * How long Karpenter waits for a draining node's pods (blocked PDBs included) before deleting them.
   * @default Duration.hours(2)
   */
  readonly terminationGracePeriod?: Duration;
}

/**
 * A cluster-scoped object: cdk8s gives every ApiObject the chart's namespace, which the API server ignores but
 * the Terraform bridge rejects ("Cluster level resource cannot take namespace").
 */
class ClusterScopedObject extends ApiObject {
  public toJson(): any {
    const json = super.toJson();
    if (json.metadata) delete json.metadata.namespace;
    return json;
  }
}

/** What provides GPU nodes in one app: every `GpuNodePools` and every `external()` declaration registers here. */
interface NodePoolRegistry {
  readonly products: Set<string>;
  readonly pools: GpuNodePools[];
}

/** One registry per app (the root of the construct tree), so environments and rollouts read it instead of scanning. */
const REGISTRIES = new WeakMap<IConstruct, NodePoolRegistry>();

function registryOf(scope: IConstruct): NodePoolRegistry {
  const root = scope.node.root;
  let registry = REGISTRIES.get(root);
  if (!registry) {
    registry = { products: new Set(), pools: [] };
    REGISTRIES.set(root, registry);
  }
  return registry;
}

/** Name of the EC2NodeClass every pool launches with. */
const NODE_CLASS_NAME = 'model-rollout-gpu';

/**
 * Karpenter NodePools (and their EC2NodeClass) for the GPU products the models' versions need: GPU instance
 * families, the `nvidia.com/gpu` taint, the product label Model pods select on, a GPU budget, and disruption
 * rules that never consolidate a node while it serves (only empty nodes are removed, and drift waits).
 *
 * Nodes carry the label `model-rollout.dev/gpu-product=<product>`.
 * @see https://karpenter.sh/docs/concepts/nodepools/
 */
export class GpuNodePools extends Construct {
  /** Declare GPU products whose nodes are provided outside this app (managed node groups, another chart). */
  public static external(scope: Construct, products: GpuProduct[]): void {
    new Construct(scope, `ExternalGpuNodes${products.map((p) => p.name).join('')}`);
    for (const p of products) registryOf(scope).products.add(p._providedKey);
  }

  /** The GPU products provided anywhere in the app of `scope`. */
  public static providedProducts(scope: Construct): string[] {
    return [...registryOf(scope).products].sort();
  }

  /** The `GpuNodePools` of the app of `scope` (a rollout's GPU budget is checked against their `maxGpus`). */
  public static nodePools(scope: Construct): GpuNodePools[] {
    return [...registryOf(scope).pools];
  }

  /** The products that got a pool. */
  public readonly products: GpuProduct[];

  /** GPU budget of each pool (`maxGpus`). */
  public readonly maxGpus: number;

  constructor(scope: Construct, id: string, props: GpuNodePoolsProps) {
    super(scope, id);
    const byName = new Map<string, GpuProduct>();
    for (const m of props.models) for (const v of m.versions) if (v.gpu) byName.set(v.gpu.product._providedKey, v.gpu.product);
    for (const p of props.extraProducts ?? []) byName.set(p._providedKey, p);
    this.products = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
    const maxGpus = props.maxGpus ?? 16;
    if (!Number.isInteger(maxGpus) || maxGpus < 1) throw errors.maxGpusInvalid(this.node.path, 'maxGpus', maxGpus);
    this.maxGpus = maxGpus;
    const drift = driftWindow(this.node.path, props.driftWindow);
    const registry = registryOf(this);
    registry.pools.push(this);
    for (const p of this.products) registry.products.add(p._providedKey);

    new ClusterScopedObject(this, 'NodeClass', { apiVersion: 'karpenter.k8s.aws/v1', kind: 'EC2NodeClass', metadata: { name: NODE_CLASS_NAME }, spec: nodeClassSpec(props.nodeClass) });
    for (const product of this.products) {
      new ClusterScopedObject(this, `Pool${product.name}`, {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: { name: `gpu-${product.name.toLowerCase()}`, labels: { [GPU_PRODUCT_LABEL]: product.name } },
        spec: nodePoolSpec(product, maxGpus, drift, props),
      });
    }
    this.node.addValidation({ validate: () => this.checkProductsCovered(props.models, byName) });
  }

  /** A version added after the pools were declared may need a product no pool provides. */
  private checkProductsCovered(models: IModel[], provided: Map<string, GpuProduct>): string[] {
    const out: string[] = [];
    for (const m of models) {
      for (const v of m.versions) {
        if (v.gpu && !provided.has(v.gpu.product._providedKey)) out.push(errors.productAddedAfterNodePools(this.node.path, `models.${m.name}.${v.name}`, v.gpu.product._providedKey).withoutPath);
      }
    }
    return out;
  }
}

/** The drift window, checked: a start hour of the day and a whole number of hours below a day. */
function driftWindow(path: string, window: DriftWindow | undefined): DriftHours {
  const drift = window ?? { startHourUtc: 2, length: Duration.hours(4) };
  const hours = drift.length.toHours({ integral: false });
  const badStart = !Number.isInteger(drift.startHourUtc) || drift.startHourUtc < 0 || drift.startHourUtc > 23;
  if (badStart || !Number.isInteger(hours) || hours < 1 || hours > 23) {
    throw errors.driftWindowInvalid(path, 'driftWindow', `start ${drift.startHourUtc}, ${hours} h`);
  }
  return { startHourUtc: drift.startHourUtc, hours };
}

function nodeClassSpec(o: GpuNodeClassOptions): unknown {
  return {
    role: o.role,
    amiSelectorTerms: [{ alias: o.amiAlias ?? 'al2023@latest' }],
    subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': o.discoveryTag } }],
    securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': o.discoveryTag } }],
    blockDeviceMappings: [{
      deviceName: '/dev/xvda',
      ebs: { volumeSize: `${(o.rootVolumeSize ?? Size.gibibytes(200)).toGibibytes()}Gi`, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
    }],
    metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 },
  };
}

/** A drift window resolved to whole hours. */
interface DriftHours {
  readonly startHourUtc: number;
  readonly hours: number;
}

/**
 * A product selected by another label than this library's (GPU Feature Discovery's `nvidia.com/gpu.product`): the
 * pool declares it, so Karpenter provisions for pods that require it and labels the node with the value the pod
 * needs ("User-Defined Labels", https://karpenter.sh/docs/concepts/scheduling/); GFD later sets the same label from
 * the hardware, which the instance families pin.
 */
function selectorRequirement(product: GpuProduct): Array<{ key: string; operator: string; values: string[] }> {
  if (product.nodeSelector === GpuNodeSelector.LIBRARY_LABEL) return [];
  return [{ ...product._nodeRequirement('', 'nodeSelector'), operator: 'In' }];
}

function nodePoolSpec(product: GpuProduct, maxGpus: number, drift: DriftHours, props: GpuNodePoolsProps): unknown {
  return {
    template: {
      metadata: { labels: { [GPU_PRODUCT_LABEL]: product.name } },
      spec: {
        nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: NODE_CLASS_NAME },
        // https://karpenter.sh/docs/concepts/disruption/#expiration (forceful in v1, budgets do not apply)
        expireAfter: props.expireAfter ? `${props.expireAfter.toSeconds()}s` : 'Never',
        terminationGracePeriod: `${(props.terminationGracePeriod ?? Duration.hours(2)).toSeconds()}s`,
        taints: [{ key: NVIDIA_GPU_RESOURCE, value: 'true', effect: 'NoSchedule' }],
        requirements: [
          { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: product.instanceFamilies },
          { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
          { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
          ...selectorRequirement(product),
        ],
      },
    },
    limits: { [NVIDIA_GPU_RESOURCE]: String(maxGpus) },
    disruption: {
      // only empty nodes go: a node serving a model is never consolidated, during a rollout or otherwise
      consolidationPolicy: 'WhenEmpty',
      consolidateAfter: `${(props.consolidateAfter ?? Duration.minutes(10)).toSeconds()}s`,
      // one node at a time; drift (AMI updates) only in the daily window: a budget of 0 for Drifted is active
      // from the window's end for the rest of the day (the most restrictive active budget wins)
      // https://karpenter.sh/docs/concepts/disruption/#disruption-budgets
      budgets: [
        { nodes: '1' },
        { nodes: '0', reasons: ['Drifted'], schedule: `0 ${(drift.startHourUtc + drift.hours) % 24} * * *`, duration: `${24 - drift.hours}h` },
      ],
    },
  };
}
