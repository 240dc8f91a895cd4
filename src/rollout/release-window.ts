import { Duration } from 'cdk8s';
import { ReleaseWindowSpec, validateWindow } from '../core/windows';

/** Options of `ReleaseWindow.cron()`. */
export interface ReleaseWindowOptions {
  /** Five-field cron expression of the window's starts (`0 9 * * 1-5`: 09:00 on weekdays). */
  readonly cron: string;
  /** How long each window lasts (1 minute to 7 days). */
  readonly duration: Duration;
  /**
   * IANA time zone the cron expression is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/**
 * When a rollout may raise its canaries' share (OpenKruise's `allowRunTime`, Kargo's promotion windows). Outside
 * every window it holds where it is; pauses, checks, cancel and abort always work.
 */
export class ReleaseWindow {
  /** Windows starting where `cron` matches, each lasting `duration`. */
  public static cron(options: ReleaseWindowOptions): ReleaseWindow {
    return new ReleaseWindow(options);
  }

  private constructor(private readonly options: ReleaseWindowOptions) {}

  /**
   * The window's data, checked.
   * @internal
   */
  public _spec(path: string, property: string): ReleaseWindowSpec {
    const seconds = this.options.duration.toSeconds();
    const spec = { cron: this.options.cron.trim(), durationSeconds: seconds, timeZone: this.options.timeZone ?? 'UTC' };
    validateWindow(path, property, spec);
    return spec;
  }
}
