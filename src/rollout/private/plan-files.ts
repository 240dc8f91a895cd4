/**
 * The synth step that writes rollout plans (`<name>.rollout.md`, `<name>.rollout.json`) beside a target's output,
 * shared by the Kubernetes and AWS rollouts. Each rollout registers its plan with its app; the app writes every
 * registered plan after its own `synth()` has validated the tree and written the manifests or Terraform, so a
 * failed validation leaves no plan behind. Neither cdk8s nor cdktf offers a public hook after validation, so the
 * app's `synth` is extended once, when its first rollout registers.
 */
import * as path from 'path';
import { IConstruct } from 'constructs';
import { RolloutPlan } from '../rollout-plan';

/** The app of either target: a root construct that synthesizes into an output directory. */
export interface SynthesizingApp extends IConstruct {
  readonly outdir: string;
  synth(): void;
}

/** One registered plan and where it goes, relative to the app's output directory. */
interface PlanEntry {
  readonly directory: string;
  /** Read when the files are written, so checks added after construction count. */
  readonly plan: () => RolloutPlan;
}

/** The plans of one app, written in one step. */
class PlanFiles {
  private readonly entries: PlanEntry[] = [];
  private written = false;

  constructor(private readonly app: SynthesizingApp) {}

  public add(entry: PlanEntry): void {
    this.entries.push(entry);
  }

  /** Every plan is computed before the first file is written; a second synthesis of the same tree writes none. */
  public write(): string[] {
    if (this.written) return [];
    this.written = true;
    const outdir = path.resolve(this.app.outdir);
    return this.entries.map((e) => ({ directory: e.directory, plan: e.plan() }))
      .flatMap((e) => e.plan.writeFiles(path.join(outdir, e.directory)));
  }
}

const REGISTRIES = new WeakMap<SynthesizingApp, PlanFiles>();

/** Write `plan` into `directory` (relative to the app's output directory) when `app` synthesizes. */
export function writePlanOnSynth(app: SynthesizingApp, directory: string, plan: () => RolloutPlan): void {
  let files = REGISTRIES.get(app);
  if (!files) {
    const registry = new PlanFiles(app);
    const synthOutput = app.synth.bind(app);
    app.synth = () => {
      synthOutput();
      registry.write();
    };
    REGISTRIES.set(app, registry);
    files = registry;
  }
  files.add({ directory, plan });
}
