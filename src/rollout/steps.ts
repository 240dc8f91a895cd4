import { Duration } from 'cdk8s';
import { AnalysisGate } from './analysis';
import { DEFAULT_SHADOW_MAX_SECONDS, DEFAULT_STEP_COUNT, DEFAULT_WINDOW_SECONDS } from '../core/constants';
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
  /**
   * Start with a shadow step (`Step.shadow()` with its defaults): before the canary answers any request, the
   * gateway mirrors copies of requests to it (answers discarded) and the error test judges it on those; the ramp
   * starts once the test has passed and held over as many copies again, and no fewer than a canary at H1 needs to
   * reach the fail bound (about 320 over a 0.1 % stable), or after 5 minutes of copies. A target that cannot mirror
   * (an ALB), a rollout with several canaries, or Gateway API CRDs before v1.3 when less than 100 % is mirrored,
   * leave it out (the plan then has no shadow row). Turn it off when requests must not be processed twice (see
   * `Step.shadow()`).
   * @default true
   */
  readonly shadowFirst?: boolean;
}

/** Options of `Step.shadow()`. */
export interface ShadowStepOptions {
  /**
   * Percent of all requests copied to the canary (whole, 1..100).
   * @default - what the replicas of the next step with traffic can answer (100 % when the stable version runs
   * one replica, that step's share when it runs many): those replicas run anyway, so the copies cost no extra GPU
   */
  readonly percent?: number;
  /**
   * Longest the step mirrors: without a verdict by then, the ramp goes on and the checks keep judging real traffic.
   * @default Duration.minutes(5)
   */
  readonly max?: Duration;
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

  /**
   * Mirror a share of requests to the canary before it answers any: the gateway sends a copy of each mirrored request
   * to the canary and discards its answer (Gateway API `RequestMirror`; Flagger's mirroring pre-stage, Argo Rollouts'
   * `setMirrorRoute`). The continuous checks judge the canary on the copies: the step ends once the error test has
   * passed and held over as many copies again (no fewer than a canary at H1 needs to reach the fail bound: about 320
   * over a 0.1 % stable), a failing test aborts the rollout before any user got an answer from the canary, and after
   * `max` without a verdict the ramp goes on. The canary's replicas for the copies come up first (the capacity gate).
   * A mirrored canary that reports no request at all is silence: the no-data rule holds, then aborts.
   *
   * Copies are processed twice (once by each version): fine for inference, which has no side effects; not for
   * requests that write (a tool call that acts, a billing event emitted by the server). Gateway API routers only,
   * one canary only.
   */
  public static shadow(options: ShadowStepOptions = {}): Step {
    return new Step({ kind: 'shadow', percent: options.percent ?? 0, maxSeconds: options.max ? options.max.toMilliseconds() / 1000 : DEFAULT_SHADOW_MAX_SECONDS });
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
    return new Steps((path, property) => [
      ...(options.shadowFirst ?? true ? [{ kind: 'shadow' as const, percent: 0, maxSeconds: DEFAULT_SHADOW_MAX_SECONDS, auto: true }] : []),
      ...equalSteps(
        options.count ?? DEFAULT_STEP_COUNT,
        options.over ? options.over.toMilliseconds() / 1000 : DEFAULT_WINDOW_SECONDS,
        path,
        property,
      ),
    ]);
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
  public _bind(path: string, property = 'steps', resolve: (steps: StepSpec[]) => StepSpec[] = (x) => x): StepSpec[] {
    const specs = resolve(this.build(path, property));
    validateSteps(path, property, specs);
    return specs;
  }
}
