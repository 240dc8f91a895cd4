/**
 * An in-memory world for the step controller (a FAKE of the cluster/cloud, for tests): a router that serves
 * the weights it is given, replicas that become ready a cold start after their floor rises, metrics per version
 * computed by a function of time, a state store with versions and optional injected faults. It implements the
 * controller's ports, so scenario tests run the real `tick()` and `decide()`.
 *
 * Follows the ports' contract (src/controller/ports.ts), not a wire protocol: the state store is a compare-and-set
 * on a version (a stale version is a `ConflictError`, as the ConfigMap's resourceVersion test and DynamoDB's
 * condition are behind the real adapters); a floor raised at t is served by replicas ready at t + cold start, as a
 * Deployment's pods become ready (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status).
 *
 * Why a world of its own, beside the kube twin's World (kube-twin/world.ts) and the AWS world (aws-world.ts): it
 * sits below the adapters, so the engine's scenario and property tests run thousands of ticks without HTTP or
 * Kubernetes objects; the other two sit below the adapters' wire protocols (the Kubernetes API, the AWS APIs) and
 * test the adapters themselves.
 */
import { ConflictError, Ports, StoredRollout } from '../../src/controller/ports';
import { replicasForWeight } from '../../src/core/capacity';
import { RolloutSpec } from '../../src/core/spec';
import { Command, ControllerState, MetricObservation } from '../../src/core/state';
import { Weights } from '../../src/core/weights';

export interface WorldOptions {
  readonly coldStartMs?: number;
  /** Metrics of a canary at a time. */
  readonly metrics?: (version: string, now: number) => Record<string, MetricObservation>;
}

export class RolloutWorld {
  public now = 0;
  public router: Weights;
  public floors: Record<string, number> = {};
  /** Ready-at times of each version's replicas. */
  public replicas: Record<string, number[]> = {};
  public state?: ControllerState;
  public stateVersion = 1;
  public command?: Command;
  /** The command queue (what the CLI appends to). */
  public commands: Command[] = [];
  public logs: Array<Record<string, unknown>> = [];
  /** Faults: throw from the next N calls of a port method. */
  public faults: Record<string, number> = {};
  /** Router changes lost silently (the API answered 200 but the route did not change). */
  public dropNextRouterWrites = 0;
  public readonly coldStartMs: number;

  constructor(public spec: RolloutSpec, private readonly options: WorldOptions = {}) {
    this.coldStartMs = options.coldStartMs ?? 240_000;
    this.router = { [spec.stable]: 100, ...Object.fromEntries(spec.canaries.map((c) => [c.version, 0])) };
    this.replicas[spec.stable] = Array(spec.stableReplicas).fill(-Infinity);
    // the environment's minimum keeps the stable version's floor (its autoscaler's minReplicas)
    this.floors[spec.stable] = spec.stableReplicas;
  }

  /** Append a command as the CLI does (one store write: bumps the version). */
  public appendCommand(kind: Command['kind']): Command {
    const seq = Math.max(this.state?.commandSeq ?? 0, ...this.commands.map((c) => c.seq ?? 0)) + 1;
    const command: Command = { id: `cmd-${seq}`, kind, at: this.now, seq };
    this.commands.push(command);
    this.stateVersion++;
    return command;
  }

  /** Replicas lost (a node died): the newest `n` replicas of `version` are gone. */
  public loseReplicas(version: string, n: number): void {
    const list = this.replicas[version] ?? [];
    list.length = Math.max(0, list.length - n);
  }

  public ready(version: string): number {
    return (this.replicas[version] ?? []).filter((t) => t <= this.now).length;
  }

  /** Whether every canary's served weight is backed by ready replicas. */
  public capacityHolds(): boolean {
    return this.spec.canaries.every((c) => this.ready(c.version) >= replicasForWeight(this.router[c.version] ?? 0, this.spec.stableReplicas));
  }

  private fault(name: string): void {
    if ((this.faults[name] ?? 0) > 0) {
      this.faults[name]--;
      throw new Error(`injected fault in ${name}`);
    }
  }

  private scaleTo(version: string, n: number): void {
    const list = this.replicas[version] ?? [];
    while (list.length < n) list.push(this.now + this.coldStartMs);
    list.length = Math.min(list.length, Math.max(n, version === this.spec.stable ? this.spec.stableReplicas : 0));
    this.replicas[version] = list;
  }

  public ports(): Ports {
    return {
      store: {
        read: async (): Promise<StoredRollout> => {
          this.fault('read');
          const version = String(this.stateVersion);
          return { spec: this.spec, target: {}, state: this.state, command: this.command, commands: [...this.commands], version };
        },
        writeState: async (state, version) => {
          this.fault('writeState');
          if (version !== String(this.stateVersion)) throw new ConflictError(`state version is ${this.stateVersion}, not ${version}`);
          this.state = state;
          this.stateVersion++;
          return String(this.stateVersion);
        },
        currentVersion: async () => String(this.stateVersion),
      },
      router: {
        readWeights: async () => {
          this.fault('readWeights');
          return { ...this.router };
        },
        setWeights: async (w) => {
          this.fault('setWeights');
          if (this.dropNextRouterWrites > 0) {
            this.dropNextRouterWrites--;
            return;
          }
          this.router = { ...w };
        },
      },
      capacity: {
        readyReplicas: async (versions) => Object.fromEntries(versions.map((v) => [v, this.ready(v)])),
        floors: async (versions) => {
          this.fault('floors');
          return Object.fromEntries(versions.map((v) => [v, this.floors[v] ?? 0]));
        },
        setFloor: async (version, n) => {
          this.fault('setFloor');
          this.floors[version] = n;
          this.scaleTo(version, n);
        },
        scaleDown: async (version) => {
          this.fault('scaleDown');
          this.floors[version] = 0;
          this.replicas[version] = [];
        },
      },
      metrics: {
        measure: async (_spec, versions) => {
          this.fault('measure');
          const f = this.options.metrics;
          return Object.fromEntries(versions.map((v) => [v, f ? f(v, this.now) : {}]));
        },
      },
      log: (line) => this.logs.push(line),
    };
  }
}
