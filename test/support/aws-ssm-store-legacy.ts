/**
 * A state store on one SSM parameter, kept only to show its race in test/controller/aws/races.test.ts (the reason the
 * controller keeps its state in DynamoDB with a condition): state and commands in one parameter written with
 * PutParameter Overwrite. PutParameter has no expected-version: with
 * Overwrite it always writes and adds one to the version
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html), so comparing versions
 * after the write tells the loser of a race only once its write has already replaced the winner's.
 * Its settle wait is injectable (the race harness makes it a scheduling point instead of 1.5 s of wall time).
 */
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConflictError, StateStore, StoredRollout } from '../../src/controller/ports';
import { AwsTarget } from '../../src/core/contract/target';
import { isRuntimeError, RolloutRuntimeError } from '../../src/core/runtime-errors';
import { RolloutSpec } from '../../src/core/spec';
import { Command, ControllerState } from '../../src/core/state';

/** The state parameter's document. */
export interface StateDocument {
  readonly state?: ControllerState;
  /** Legacy single command slot (older CLIs). */
  readonly command?: Command;
  /** The command queue, oldest first (this CLI). */
  readonly commands?: Command[];
}

/** Spec and target in one SSM parameter (Terraform-owned); state and commands in another (controller and CLI). */
export class LegacySsmStore implements StateStore {
  public spec?: RolloutSpec;
  public target?: AwsTarget;
  private doc: StateDocument = {};

  constructor(
    private readonly ssm: SSMClient,
    private readonly specParameter: string,
    private readonly stateParameter: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  public async read(): Promise<StoredRollout> {
    const [specOut, state] = await Promise.all([
      this.ssm.send(new GetParameterCommand({ Name: this.specParameter })),
      this.readState(),
    ]);
    const specDoc = JSON.parse(specOut.Parameter?.Value ?? '{}') as { spec?: RolloutSpec; target?: AwsTarget };
    if (!specDoc.spec || !specDoc.target) throw new Error(`SSM parameter ${this.specParameter} lacks "spec" or "target"`);
    this.spec = specDoc.spec;
    this.target = specDoc.target;
    this.doc = state.doc;
    const { state: st, command, commands } = this.doc;
    return { spec: this.spec, target: this.target, state: st, command, commands, version: state.version };
  }

  /**
   * PutParameter has no compare-and-swap. The version is read again right before writing (a command or a tick
   * that came between is a conflict, and nothing is overwritten), and the new version must be exactly one more
   * than the one read; anything else means another writer came between (a conflict). The commands written back
   * are the ones of that last read, so a command stored before it is kept.
   */
  public async writeState(state: ControllerState, version: string): Promise<string> {
    const fresh = await this.readState();
    if (fresh.version !== version) throw this.conflict(fresh.version, version);
    return this.put({ ...fresh.doc, state }, version);
  }

  public async currentVersion(): Promise<string> {
    return (await this.readState()).version;
  }

  /**
   * Append a command (the CLI): drop the handled ones, append with the next `seq`, write, then read back after
   * `settleMs` to check it is still there (or already handled): without compare-and-swap a concurrent writer can
   * overwrite it, and then it is written again. Resolves only once the command is stored.
   */
  public async appendCommand(kind: Command['kind'], id: string, at: number, attempts = 5, settleMs = 1500): Promise<Command> {
    let command: Command | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const { doc, version } = await this.readState();
      const queue = doc.commands ?? [];
      if (command && (queue.some((c) => c.id === id) || (doc.state?.commandSeq ?? 0) >= command.seq!)) return command;
      const pending = [...queue, ...(doc.command ? [doc.command] : [])].filter((c) => !handledBy(c, doc.state));
      command = { id, kind, at, seq: Math.max(doc.state?.commandSeq ?? 0, ...queue.map((c) => c.seq ?? 0)) + 1 };
      try {
        await this.put({ state: doc.state, commands: [...pending, command] }, version);
      } catch (e) {
        if (!isRuntimeError(e, 'conflict')) throw e;
      }
      await this.sleep(settleMs);
    }
    const { doc } = await this.readState();
    if (command && ((doc.commands ?? []).some((c) => c.id === id) || (doc.state?.commandSeq ?? 0) >= command.seq!)) return command;
    throw new RolloutRuntimeError('conflict', `could not store the ${kind} command in ${this.stateParameter} after ${attempts} attempts: other writers keep coming between; try again`);
  }

  private async readState(): Promise<{ doc: StateDocument; version: string }> {
    const out = await this.ssm.send(new GetParameterCommand({ Name: this.stateParameter }));
    const raw = out.Parameter?.Value ?? '{}';
    return { doc: raw.trim().startsWith('{') ? JSON.parse(raw) as StateDocument : {}, version: String(out.Parameter?.Version ?? 0) };
  }

  private conflict(now: string | number | undefined, read: string): ConflictError {
    return new ConflictError(`SSM parameter ${this.stateParameter} is at version ${now}, expected ${Number(read) + 1}: another writer came between`);
  }

  private async put(doc: StateDocument, version: string): Promise<string> {
    const out = await this.ssm.send(new PutParameterCommand({ Name: this.stateParameter, Value: JSON.stringify(doc), Overwrite: true, Type: 'String' }));
    if (String(out.Version) !== String(Number(version) + 1)) throw this.conflict(out.Version, version);
    return String(out.Version);
  }
}

function handledBy(c: Command, state: ControllerState | undefined): boolean {
  if (!state) return false;
  return c.seq !== undefined ? c.seq <= (state.commandSeq ?? 0) : c.id === state.lastCommandId;
}

