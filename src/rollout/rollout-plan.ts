import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { Metric } from './analysis';
import { CanaryOptions, MirrorOptions } from './canary';
import { RolloutCapacity } from './capacity';
import { shadowUnsupported } from '../core/errors';
import { buildRolloutSpec } from './private/build-spec';
import { Steps } from './steps';
import { PLAN_JSON_SUFFIX, PLAN_MARKDOWN_SUFFIX } from '../core/constants';
import { computePlan, PlanData } from '../core/plan/plan';
import { renderPlanJson, renderPlanMarkdown, renderPlanText } from '../core/plan/render';
import { RolloutSpec } from '../core/spec';

/** Props of `RolloutPlan.compute()`: a rollout described without any target. */
export interface RolloutPlanProps {
  /** Name of the rollout (DNS-1123 label); the plan files are `<name>.rollout.md` and `<name>.rollout.json`. */
  readonly name: string;
  /** The version serving now. */
  readonly stableVersion: string;
  /** The canaries. */
  readonly canaries: CanaryOptions[];
  /**
   * The schedule.
   * @default Steps.equal() - 10 equal steps over 10 minutes
   */
  readonly steps?: Steps;
  /**
   * Replicas of the stable version: the baseline of the capacity arithmetic.
   * @default 1
   */
  readonly stableReplicas?: number;
  /**
   * GPUs per replica of each version, by version name.
   * @default - 0 for every version
   */
  readonly gpusPerReplica?: { [version: string]: number };
  /**
   * Shadow traffic.
   * @default - none
   */
  readonly mirror?: MirrorOptions;
  /**
   * Checks evaluated at every tick of the rollout.
   * @default - none
   */
  readonly checks?: Metric[];
  /**
   * Where the plan is declared, for messages.
   * @default - the name
   */
  readonly path?: string;
  /**
   * How the rollout uses GPUs.
   * @default RolloutCapacity.full()
   */
  readonly capacity?: RolloutCapacity;
}

/**
 * The plan of a rollout: its timeline (weights, replicas and GPUs of every version at every step), its
 * duration, GPU-hours and spec hash. The same engine computes it at synth time and drives the controller.
 */
export class RolloutPlan {
  /** Compute the plan of a rollout described by props (no construct needed). */
  public static compute(props: RolloutPlanProps): RolloutPlan {
    const versions = [props.stableVersion, ...props.canaries.map((c) => c.version), ...(props.mirror ? [props.mirror.version] : [])]
      .filter((v, i, all) => all.indexOf(v) === i)
      .map((name) => ({ name, gpusPerReplica: props.gpusPerReplica?.[name] ?? 0 }));
    return new RolloutPlan(buildRolloutSpec(props.path ?? props.name, {
      name: props.name,
      stable: props.stableVersion,
      canaries: props.canaries,
      steps: props.steps,
      stableReplicas: props.stableReplicas,
      versions,
      mirror: props.mirror,
      checks: props.checks,
      capacity: props.capacity,
      // planned as on Gateway API (v1.3+ CRDs), where shadow steps run
      shadows: {
        canMirror: true,
        partialMirror: true,
        unsupported: (prop) => shadowUnsupported(props.path ?? props.name, prop),
        partial: (prop) => shadowUnsupported(props.path ?? props.name, prop),
      },
    }));
  }

  /** @internal */
  public static _fromSpec(spec: RolloutSpec): RolloutPlan {
    return new RolloutPlan(spec);
  }

  /** Name of the rollout. */
  public readonly name: string;
  /** Stable hash of the rollout spec; changes whenever anything that shapes the rollout changes. */
  public readonly specHash: string;
  /** Nominal duration (every gate passing at once, manual pauses released at once). */
  public readonly duration: Duration;
  /** GPU-hours used by all versions over the nominal duration. */
  public readonly gpuHours: number;
  /** Peak GPUs in use. */
  public readonly peakGpus: number;
  /** Whether the plan holds at a manual `pauseUntilPromoted` step. */
  public readonly waitsForPromotion: boolean;

  private readonly data: PlanData;

  private constructor(private readonly spec: RolloutSpec) {
    this.data = computePlan(spec);
    this.name = spec.name;
    this.specHash = this.data.hash;
    this.duration = Duration.seconds(this.data.totalSeconds);
    this.gpuHours = this.data.gpuHours;
    this.peakGpus = this.data.peakGpus;
    this.waitsForPromotion = this.data.waitsForPromotion;
  }

  /** Canary weights at the end of each step, in order (for one canary: its weight). */
  public get canaryWeights(): number[] {
    return this.data.rows.filter((r) => r.step >= 0).map((r) => this.data.canaries.reduce((sum, c) => sum + r.weights[c], 0));
  }

  /** The plan as Markdown: summary, table and a mermaid chart (renders in pull requests). */
  public toMarkdown(): string {
    return renderPlanMarkdown(this.data);
  }

  /** The plan as an aligned plain-text table. */
  public toText(): string {
    return renderPlanText(this.data);
  }

  /** The spec and its plan as JSON: what `<name>.rollout.json` holds, and what `model-rollout plan` reads. */
  public toJson(): string {
    return renderPlanJson(this.spec, this.data);
  }

  /**
   * Write `<name>.rollout.md` and `<name>.rollout.json` into `outdir` (created if missing).
   * @returns the paths written
   */
  public writeFiles(outdir: string): string[] {
    fs.mkdirSync(outdir, { recursive: true });
    const md = path.join(outdir, `${this.name}${PLAN_MARKDOWN_SUFFIX}`);
    const json = path.join(outdir, `${this.name}${PLAN_JSON_SUFFIX}`);
    fs.writeFileSync(md, this.toMarkdown());
    fs.writeFileSync(json, this.toJson());
    return [md, json];
  }

  /** @internal */
  public _spec(): RolloutSpec {
    return this.spec;
  }

  /** @internal */
  public _data(): PlanData {
    return this.data;
  }
}
