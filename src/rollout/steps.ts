import { Duration } from 'cdk8s';
import { AnalysisGate } from './analysis';
import { DEFAULT_STEP_COUNT, DEFAULT_WINDOW_SECONDS } from '../core/constants';
import { equalSteps, linearSteps, validateSteps } from '../core/schedule';
import { StepSpec } from '../core/spec';

/** Options of `Steps.equal()`. */
export interface EqualStepsOptions {
  /**
   * Number of equal steps. The canary reaches 100 / count percent more at each step.
   * @default 10
   */
  readonly count?: number;
  /**
   * The window the steps are spread over. Each step waits `over / count`, then raises the weight,
   * so the last step reaches 100 % exactly at the end of the window.
   * Must be at least `count` controller ticks (one minute each).
   * @default Duration.minutes(10)
   */
  readonly over?: Duration;
}

/** Options of `Steps.linear()`. */
export interface LinearStepsOptions {
  /** Percent added at each step (the last step may add less, to land on 100). */
  readonly percent: number;
  /** Time between two steps; at least one controller tick (one minute). */
  readonly every: Duration;
}

/** Options of `Step.setWeight()`. */
export interface SetWeightOptions {
  /**
   * A note shown beside the step in the plan and in the controller's logs ("bake over the evening peak").
   * @default - none
   */
  readonly note?: string;
}

/**
 * One step of a custom schedule.
 *
 * Weights are percent of the canary's target: with one canary (target 100 by default) `setWeight(20)`
 * sends 20 % of requests to it; with canaries targeting 30 % and 20 %, `setWeight(50)` sends them 15 % and 10 %.
 */
export class Step {
  /** Send `weight` percent (of the canary's target) to the canary. Whole numbers 0..100, never decreasing. */
  public static setWeight(weight: number, options: SetWeightOptions = {}): Step {
    return new Step({ kind: 'setWeight', weight, note: options.note });
  }

  /** Hold the current weights for `duration` (at least one controller tick, one minute). */
  public static pause(duration: Duration): Step {
    return new Step({ kind: 'pause', seconds: duration.toMilliseconds() / 1000 });
  }

  /** Hold the current weights until someone runs `model-rollout promote` (or `resume`). */
  public static pauseUntilPromoted(): Step {
    return new Step({ kind: 'pauseUntilPromoted' });
  }

  /** Measure metrics at the current weights; the rollout goes on when the gate passes and aborts when it fails. */
  public static analysis(gate: AnalysisGate): Step {
    return new Step({ kind: 'analysis', gate: gate._spec() });
  }

  private constructor(private readonly spec: StepSpec) {}

  /** @internal */
  public _spec(): StepSpec {
    return this.spec;
  }
}

/**
 * A rollout schedule: when the canary's weight rises, and what must hold before it does.
 *
 * @example
 * Steps.equal({ count: 10, over: Duration.minutes(30) });
 * Steps.linear({ percent: 25, every: Duration.minutes(5) });
 * Steps.custom([Step.setWeight(5), Step.analysis(gate), Step.setWeight(50), Step.pauseUntilPromoted(), Step.setWeight(100)]);
 */
export class Steps {
  /**
   * `count` equal steps spread over a window: Baseten's promotion ramp. The default schedule
   * (10 steps over 10 minutes) sends 10 % at 1:00, 20 % at 2:00, ..., 100 % at 10:00.
   */
  public static equal(options: EqualStepsOptions = {}): Steps {
    return new Steps((path, property) => equalSteps(
      options.count ?? DEFAULT_STEP_COUNT,
      options.over ? options.over.toMilliseconds() / 1000 : DEFAULT_WINDOW_SECONDS,
      path,
      property,
    ));
  }

  /** `percent` more every `every`, until 100 (Flagger's stepWeight/interval). */
  public static linear(options: LinearStepsOptions): Steps {
    return new Steps((path, property) => linearSteps(options.percent, options.every.toMilliseconds() / 1000, path, property));
  }

  /**
   * An explicit step list (Argo Rollouts' `steps`). After the last step, the canary stands at its target:
   * a final `Step.setWeight(100)` is implied when the list does not end at 100.
   */
  public static custom(steps: Step[]): Steps {
    return new Steps(() => {
      const specs = steps.map((s) => s._spec());
      const reaches100 = specs.some((s) => s.kind === 'setWeight' && s.weight === 100);
      return specs.length > 0 && !reaches100 ? [...specs, { kind: 'setWeight', weight: 100 }] : specs;
    });
  }

  private constructor(private readonly build: (path: string, property: string) => StepSpec[]) {}

  /**
   * Resolve and validate the steps. Throws a `RolloutConfigError` naming `path` and `property`.
   * @internal
   */
  public _bind(path: string, property = 'steps'): StepSpec[] {
    const specs = this.build(path, property);
    validateSteps(path, property, specs);
    return specs;
  }
}
