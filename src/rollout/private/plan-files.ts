/**
 * The synth step that writes rollout plans (`<name>.rollout.md`, `<name>.rollout.json`) beside a target's output,
 * shared by the Kubernetes and AWS rollouts. Each rollout registers its plan with the construct whose validation
 * covers it (the cdk8s app, or the cdktf stack: `runAllValidations` covers one stack); one validation there writes
 * every registered plan once the tree's other validations pass, so a failed validation anywhere leaves no plan
 * behind, and a second synthesis of the same tree writes none.
 *
 * Validation is the one hook both frameworks run on every synthesis and that jsii languages reach: the jsii kernel
 * invokes a method through the class's prototype, so an app whose `synth` were extended on the instance would skip
 * the extension when a Python or Java program calls `app.synth()`.
 */
import * as path from 'path';
import { IConstruct } from 'constructs';
import { RolloutPlan } from '../rollout-plan';

/** One registered plan and where it goes, relative to the app's output directory. */
interface PlanEntry {
  readonly directory: string;
  /** Read when the files are written, so checks added after construction count. */
  readonly plan: () => RolloutPlan;
}

/** The plans validated by one construct, written in one step. */
class PlanFiles {
  private readonly entries: PlanEntry[] = [];
  private written = false;

  constructor(private readonly host: IConstruct, private readonly outdir: () => string) {}

  public add(entry: PlanEntry): void {
    this.entries.push(entry);
  }

  /** The validation: every other construct under the host validates cleanly, then every plan is written once. */
  public validate(): string[] {
    if (this.written) return [];
    const failing = this.host.node.findAll().some((c) => c !== this.host && c.node.validate().length > 0);
    if (failing) return [];
    this.written = true;
    const outdir = path.resolve(this.outdir());
    // every plan computed before the first file is written
    this.entries.map((e) => ({ directory: e.directory, plan: e.plan() }))
      .forEach((e) => e.plan.writeFiles(path.join(outdir, e.directory)));
    return [];
  }
}

const REGISTRIES = new WeakMap<IConstruct, PlanFiles>();

/**
 * Write `plan` into `directory` (relative to `outdir()`) when `host` is validated at synthesis, after the rest of
 * its tree validated cleanly.
 */
export function writePlanOnSynth(host: IConstruct, outdir: () => string, directory: string, plan: () => RolloutPlan): void {
  let files = REGISTRIES.get(host);
  if (!files) {
    const registry = new PlanFiles(host, outdir);
    host.node.addValidation({ validate: () => registry.validate() });
    REGISTRIES.set(host, registry);
    files = registry;
  }
  files.add({ directory, plan });
}
