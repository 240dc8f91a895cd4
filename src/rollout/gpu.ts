import { GPU_PRODUCT_LABEL } from '../core/constants';
import * as errors from '../core/errors';

/**
 * A GPU product and the AWS instance families that carry it. Node pools (Karpenter NodePools, EKS node groups)
 * label their nodes with `model-rollout.dev/gpu-product=<name>`; Model pods select on that label.
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

  private constructor(
    /** Product name, the value of the node label. */
    public readonly name: string,
    /** AWS instance families carrying this GPU. */
    public readonly instanceFamilies: string[],
    /** Memory per GPU in GiB. */
    public readonly memoryGiB: number,
    /** GPUs on the largest node that carries this product. */
    public readonly maxPerNode: number,
  ) {}

  /** The node label key products are selected by. */
  public get nodeLabel(): string {
    return GPU_PRODUCT_LABEL;
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
  }
}
