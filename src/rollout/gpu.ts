import { GPU_PRODUCT_LABEL } from '../core/constants';
import * as errors from '../core/errors';

/**
 * A GPU product and the AWS instance families that carry it. Node pools (Karpenter NodePools, EKS node groups)
 * label their nodes with `model-rollout.dev/gpu-product=<name>`; Model pods select on that label.
 */
export class GpuProduct {
  /** NVIDIA T4, 16 GB (g4dn). */
  public static readonly T4 = new GpuProduct('T4', ['g4dn'], 16);
  /** NVIDIA A10G, 24 GB (g5). */
  public static readonly A10G = new GpuProduct('A10G', ['g5'], 24);
  /** NVIDIA L4, 24 GB (g6). */
  public static readonly L4 = new GpuProduct('L4', ['g6'], 24);
  /** NVIDIA L40S, 48 GB (g6e). */
  public static readonly L40S = new GpuProduct('L40S', ['g6e'], 48);
  /** NVIDIA A100, 40 GB (p4d) or 80 GB (p4de). */
  public static readonly A100 = new GpuProduct('A100', ['p4d', 'p4de'], 40);
  /** NVIDIA H100, 80 GB (p5). */
  public static readonly H100 = new GpuProduct('H100', ['p5'], 80);
  /** NVIDIA H200, 141 GB (p5e, p5en). */
  public static readonly H200 = new GpuProduct('H200', ['p5e', 'p5en'], 141);

  /** Every product the library knows. */
  public static all(): GpuProduct[] {
    return [GpuProduct.T4, GpuProduct.A10G, GpuProduct.L4, GpuProduct.L40S, GpuProduct.A100, GpuProduct.H100, GpuProduct.H200];
  }

  /** The known product whose instance family is `family` (`g5` -> A10G), if any. */
  public static fromInstanceFamily(family: string): GpuProduct | undefined {
    return GpuProduct.all().find((p) => p.instanceFamilies.includes(family));
  }

  /** A product the library does not list (another cloud, a new family). */
  public static custom(name: string, instanceFamilies: string[], memoryGiB: number): GpuProduct {
    return new GpuProduct(name, instanceFamilies, memoryGiB);
  }

  private constructor(
    /** Product name, the value of the node label. */
    public readonly name: string,
    /** AWS instance families carrying this GPU. */
    public readonly instanceFamilies: string[],
    /** Memory per GPU in GiB. */
    public readonly memoryGiB: number,
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
  }
}
