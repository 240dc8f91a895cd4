import { GPU_FEATURE_DISCOVERY_LABEL, GPU_PRODUCT_LABEL } from '../core/constants';
import * as errors from '../core/errors';

/**
 * The values NVIDIA GPU Feature Discovery (GFD, part of the GPU Operator) puts in `nvidia.com/gpu.product` on
 * nodes with each known product: NVML's device name with spaces replaced by `-` (GFD's `gpu.product` label,
 * https://github.com/NVIDIA/k8s-device-plugin/tree/main/docs/gpu-feature-discovery, as seen on EKS g4dn "Tesla-T4",
 * g5 "NVIDIA-A10G", g6e "NVIDIA-L40S", p4d "NVIDIA-A100-SXM4-40GB", p5 "NVIDIA-H100-80GB-HBM3"). GPU sharing
 * (time-slicing, MPS with `renameByDefault`) appends `-SHARED`: such nodes need `GpuNodeSelector.label(...)`.
 */
const GFD_PRODUCTS: Record<string, readonly string[]> = {
  T4: ['Tesla-T4'],
  A10G: ['NVIDIA-A10G'],
  L4: ['NVIDIA-L4'],
  L40S: ['NVIDIA-L40S'],
  A100: ['NVIDIA-A100-SXM4-40GB', 'NVIDIA-A100-SXM4-80GB', 'NVIDIA-A100-PCIE-40GB', 'NVIDIA-A100-80GB-PCIe'],
  H100: ['NVIDIA-H100-80GB-HBM3'],
  H200: ['NVIDIA-H200'],
};

/** The node requirement a selector resolves to for one product: the label key, and the values any of which matches. */
export interface GpuNodeRequirement {
  /** Node label key. */
  readonly key: string;
  /** Label values, any of which matches (`operator: In`). */
  readonly values: string[];
}

/**
 * Which node label says a node carries a GPU product: what every pod of the product requires (node affinity) and
 * what the synth checks compare node pools by.
 */
export class GpuNodeSelector {
  /**
   * This library's label, `model-rollout.dev/gpu-product=<product name>`: `GpuNodePools` (Karpenter) and
   * `GpuNodeGroup` (EKS) put it on their nodes. Nodes created otherwise need it too (`kubectl label node`).
   */
  public static readonly LIBRARY_LABEL = new GpuNodeSelector('library');

  /**
   * NVIDIA GPU Feature Discovery's `nvidia.com/gpu.product`, which the GPU Operator (or the device plugin's GFD)
   * sets on every GPU node it finds (`NVIDIA-L4`, `Tesla-T4`, ...): for GPU nodes this library did not create. A
   * product of `GpuProduct.custom(...)` has no preset: use `GpuNodeSelector.label(...)`.
   */
  public static readonly GPU_FEATURE_DISCOVERY = new GpuNodeSelector('gfd');

  /** Any node label: the node matches when its value of `key` is one of `values`. */
  public static label(key: string, values: string[]): GpuNodeSelector {
    return new GpuNodeSelector('label', { key, values: [...values] });
  }

  private constructor(private readonly kind: 'library' | 'gfd' | 'label', private readonly requirement?: GpuNodeRequirement) {}

  /**
   * The requirement for `product`, checked: a label key and values Kubernetes accepts.
   * @internal
   */
  public _requirement(path: string, property: string, product: string): GpuNodeRequirement {
    if (this.kind === 'library') return { key: GPU_PRODUCT_LABEL, values: [product] };
    if (this.kind === 'gfd') {
      const values = GFD_PRODUCTS[product];
      if (!values) throw errors.gpuFeatureDiscoveryUnknownProduct(path, property, product);
      return { key: GPU_FEATURE_DISCOVERY_LABEL, values: [...values] };
    }
    const r = this.requirement!;
    if (!isQualifiedLabelKey(r.key)) throw errors.nodeLabelKeyInvalid(path, `${property}.key`, r.key);
    if (r.values.length === 0) throw errors.nodeLabelValuesEmpty(path, `${property}.values`);
    r.values.forEach((v, i) => {
      if (!isLabelValue(v) || v === '') throw errors.nodeLabelValueInvalid(path, `${property}.values[${i}]`, v);
    });
    return { key: r.key, values: [...r.values] };
  }
}

/** A label value: at most 63 characters, alphanumerics, `-`, `_`, `.`, beginning and ending with an alphanumeric. */
function isLabelValue(v: string): boolean {
  return v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v);
}

/** A qualified label key: an optional DNS-1123 subdomain prefix and `/`, then a name like a label value (not empty). */
function isQualifiedLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  if (prefix !== undefined && !(prefix.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix))) return false;
  return name !== '' && isLabelValue(name);
}

/**
 * A GPU product and the AWS instance families that carry it. Node pools (Karpenter NodePools, EKS node groups)
 * label their nodes with `model-rollout.dev/gpu-product=<name>`; Model pods select on the product's node selector
 * (that label by default; `withNodeSelector(GpuNodeSelector.GPU_FEATURE_DISCOVERY)` for nodes labelled by NVIDIA GPU
 * Feature Discovery).
 */
export class GpuProduct {
  /** NVIDIA T4, 16 GB (g4dn). */
  // GPUs per node: the largest size of each family (https://aws.amazon.com/ec2/instance-types/#Accelerated_Computing):
  // g4dn.metal 8 T4, g5.48xlarge 8 A10G, g6.48xlarge 8 L4, g6e.48xlarge 8 L40S, p4d/p4de.24xlarge 8 A100,
  // p5.48xlarge 8 H100, p5e/p5en.48xlarge 8 H200. A pod cannot span nodes, so a replica needs at most this many.
  /** NVIDIA T4, 16 GB (g4dn), up to 8 per node. */
  public static readonly T4 = new GpuProduct('T4', ['g4dn'], 16, 8);
  /** NVIDIA A10G, 24 GB (g5), up to 8 per node. */
  public static readonly A10G = new GpuProduct('A10G', ['g5'], 24, 8);
  /** NVIDIA L4, 24 GB (g6), up to 8 per node. */
  public static readonly L4 = new GpuProduct('L4', ['g6'], 24, 8);
  /** NVIDIA L40S, 48 GB (g6e), up to 8 per node. */
  public static readonly L40S = new GpuProduct('L40S', ['g6e'], 48, 8);
  /** NVIDIA A100, 40 GB (p4d) or 80 GB (p4de), 8 per node. */
  public static readonly A100 = new GpuProduct('A100', ['p4d', 'p4de'], 40, 8);
  /** NVIDIA H100, 80 GB (p5), 8 per node. */
  public static readonly H100 = new GpuProduct('H100', ['p5'], 80, 8);
  /** NVIDIA H200, 141 GB (p5e, p5en), 8 per node. */
  public static readonly H200 = new GpuProduct('H200', ['p5e', 'p5en'], 141, 8);

  /** Every product the library knows. */
  public static all(): GpuProduct[] {
    return [GpuProduct.T4, GpuProduct.A10G, GpuProduct.L4, GpuProduct.L40S, GpuProduct.A100, GpuProduct.H100, GpuProduct.H200];
  }

  /** The known product whose instance family is `family` (`g5` -> A10G), if any. */
  public static fromInstanceFamily(family: string): GpuProduct | undefined {
    return GpuProduct.all().find((p) => p.instanceFamilies.includes(family));
  }

  /**
   * A product the library does not list (another cloud, a new family).
   * @param maxPerNode GPUs on the largest node of these families (a replica cannot ask for more). Default: 8.
   */
  public static custom(name: string, instanceFamilies: string[], memoryGiB: number, maxPerNode?: number): GpuProduct {
    return new GpuProduct(name, instanceFamilies, memoryGiB, maxPerNode ?? 8);
  }

  /** The node selector pods of this product use. */
  public readonly nodeSelector: GpuNodeSelector;

  private constructor(
    /** Product name, the value of the node label. */
    public readonly name: string,
    /** AWS instance families carrying this GPU. */
    public readonly instanceFamilies: string[],
    /** Memory per GPU in GiB. */
    public readonly memoryGiB: number,
    /** GPUs on the largest node that carries this product. */
    public readonly maxPerNode: number,
    nodeSelector?: GpuNodeSelector,
  ) {
    this.nodeSelector = nodeSelector ?? GpuNodeSelector.LIBRARY_LABEL;
  }

  /**
   * The same product on nodes selected by `selector` (for example `GpuProduct.L4.withNodeSelector(GpuNodeSelector.GPU_FEATURE_DISCOVERY)`
   * for GPU nodes this library did not create).
   */
  public withNodeSelector(selector: GpuNodeSelector): GpuProduct {
    return new GpuProduct(this.name, this.instanceFamilies, this.memoryGiB, this.maxPerNode, selector);
  }

  /** The node label key this product's pods select on. */
  public get nodeLabel(): string {
    return this._nodeRequirement('', 'nodeSelector').key;
  }

  /**
   * The node requirement of this product's pods, checked.
   * @internal
   */
  public _nodeRequirement(path: string, property: string): GpuNodeRequirement {
    return this.nodeSelector._requirement(path, property, this.name);
  }

  /**
   * What node pools and pods are compared by at synth: the product name with the library's label, else the name
   * and the requirement (a pool labelled for the library does not provide GPU Feature Discovery's label).
   * @internal
   */
  public get _providedKey(): string {
    if (this.nodeSelector === GpuNodeSelector.LIBRARY_LABEL) return this.name;
    const r = this._nodeRequirement('', 'nodeSelector');
    return `${this.name} (${r.key} in ${r.values.join('|')})`;
  }
}

/** Options of `Gpu.nvidia()`. */
export interface NvidiaGpuOptions {
  /**
   * GPUs per replica: a whole number of at least 1.
   * @default 1
   */
  readonly count?: number;
  /** The GPU product the replica must run on. */
  readonly product: GpuProduct;
}

/** GPUs a replica needs. */
export class Gpu {
  /** NVIDIA GPUs through the device plugin's `nvidia.com/gpu` resource. */
  public static nvidia(options: NvidiaGpuOptions): Gpu {
    return new Gpu(options.count ?? 1, options.product);
  }

  private constructor(
    /** GPUs per replica. */
    public readonly count: number,
    /** The product. */
    public readonly product: GpuProduct,
  ) {}

  /**
   * Throw unless the count is a whole number >= 1.
   * @internal
   */
  public _validate(path: string, property: string): void {
    if (!Number.isInteger(this.count) || this.count < 1) throw errors.gpuCountInvalid(path, `${property}.count`, this.count);
    if (this.count > this.product.maxPerNode) throw errors.gpuCountAboveNode(path, `${property}.count`, this.count, this.product.name, this.product.maxPerNode);
    this.product._nodeRequirement(path, `${property}.product.nodeSelector`);
  }
}
