/**
 * What the CLI's commands and its backends share: the parsed command line and a rollout's store, whichever the
 * target. A module of its own so that the AWS backend (bundled apart) and `main.ts` do not import each other.
 */
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState } from '../../core/state';

/** Parsed command line. */
export interface CliArgs {
  readonly verb: string;
  readonly subject?: string;
  readonly flags: Record<string, string | true>;
}

/** A rollout's store, whichever the target. */
export interface Backend {
  /** The spec, the state, the target and the command queue (with the legacy single slot) as stored. */
  read(): Promise<{ spec: RolloutSpec; state?: ControllerState; target: unknown; commands?: readonly Command[]; command?: Command }>;
  appendCommand(kind: Command['kind'], id: string, at: number): Promise<Command>;
  /**
   * Make the controller handle the commands stored now, when its ticks may have stopped (AWS: the schedule is off once
   * the rollout settled): `target` names what was woken. Absent: the controller ticks every minute regardless.
   */
  wake?(): Promise<{ readonly ok: boolean; readonly target: string; readonly error?: string }>;
  /** Replicas ready and desired per version (Kubernetes: the Deployments), when the backend can read them. */
  replicas?(spec: RolloutSpec, target: unknown): Promise<Record<string, Replicas>>;
}

/** Replicas of one version, or why they could not be read. */
export interface Replicas {
  readonly ready?: number;
  readonly desired?: number;
  readonly error?: string;
}
