/**
 * Systematic interleaving of concurrent actors (the CLI, Lambda invocations) at every AWS API call: each call is a
 * scheduling point, and a scheduler chooses which waiting call goes next. The fakes apply a call the moment it is
 * released (before their first await), so a schedule is a total order of API calls, as the services see them.
 *
 * Two ways to choose: `explore()` enumerates every schedule with at most `preemptions` preemptions (switching
 * away from an actor that could go on), the bounded search of CHESS (Musuvathi & Qadeer, "Iterative context
 * bounding for systematic testing of multithreaded programs", PLDI 2007), by stateless replay: a run is
 * determined by its list of choices, and the next run changes the deepest choice that has an untried option.
 * `random()` runs seeded random schedules.
 */

interface Waiting {
  readonly actor: number;
  readonly label: string;
  readonly release: () => void;
}

/** Choose one of `waiting` (never empty) at a scheduling point. */
export type Chooser = (waiting: readonly Waiting[], last: number | undefined) => number;

/** One run: actors get a `point(label)` to await before each API call. */
export class Interleaving {
  private waiting: Waiting[] = [];
  private last: number | undefined;
  /** The labels of the calls, in the order released. */
  public readonly trace: string[] = [];

  constructor(private readonly choose: Chooser) {}

  /** A scheduling point of `actor`: resolves when the scheduler releases it. */
  public point(actor: number, label: string): Promise<void> {
    return new Promise((release) => this.waiting.push({ actor, label, release }));
  }

  /** Wrap an SDK-like client so that each `send` of `actor` is a scheduling point. */
  public gate<T extends { send(command: any): Promise<any> }>(actor: number, client: T): any {
    return {
      send: async (command: { constructor: { name: string } }) => {
        await this.point(actor, command.constructor.name.replace(/Command$/, ''));
        return client.send(command);
      },
    };
  }

  /** Run the actors to completion; errors are returned per actor, not thrown. */
  public async run(actors: ReadonlyArray<() => Promise<unknown>>): Promise<Array<{ value?: unknown; error?: Error }>> {
    const results: Array<{ value?: unknown; error?: Error }> = actors.map(() => ({}));
    let done = 0;
    actors.forEach((actor, i) => {
      actor().then((value) => { results[i] = { value }; }, (error) => { results[i] = { error }; }).finally(() => { done++; });
    });
    for (let steps = 0; ; steps++) {
      // everything runnable runs until it awaits a scheduling point (the fakes and the tick only chain promises)
      await new Promise((r) => setImmediate(r));
      if (this.waiting.length === 0) break;
      if (steps > 10_000) throw new Error('interleaving: more than 10000 calls in one run');
      const i = this.choose(this.waiting, this.last);
      const [next] = this.waiting.splice(i, 1);
      this.last = next.actor;
      this.trace.push(`${next.actor}:${next.label}`);
      next.release();
    }
    if (done !== actors.length) throw new Error(`interleaving: ${actors.length - done} actor(s) blocked outside a scheduling point`);
    return results;
  }
}

/**
 * The choices at a point: one per actor (its oldest waiting call; the order of one actor's own parallel reads is
 * not explored), the running actor first, so that choice 0 never preempts.
 */
function ordered(waiting: readonly Waiting[], last: number | undefined): number[] {
  const first = new Map<number, number>();
  waiting.forEach((w, i) => { if (!first.has(w.actor)) first.set(w.actor, i); });
  return [...first.entries()].sort(([a], [b]) => (Number(b === last) - Number(a === last)) || a - b).map(([, i]) => i);
}

/**
 * Every schedule with at most `preemptions` preemptions, up to `limit` runs. `runOnce(chooser)` performs one
 * run with the chooser. Returns how many runs it made and whether it covered the whole bounded space.
 */
export async function explore(
  runOnce: (choose: Chooser) => Promise<void>,
  preemptions: number,
  limit: number,
): Promise<{ runs: number; complete: boolean }> {
  let prefix: number[] = [];
  for (let runs = 1; ; runs++) {
    const taken: Array<{ choice: number; options: number }> = [];
    let used = 0;
    await runOnce((waiting, last) => {
      const options = ordered(waiting, last);
      const lastCanGo = last !== undefined && waiting.some((w) => w.actor === last);
      // beyond the bound only the running actor may go on
      const allowed = used >= preemptions && lastCanGo ? options.slice(0, 1) : options;
      const d = taken.length;
      const choice = d < prefix.length ? Math.min(prefix[d], allowed.length - 1) : 0;
      const pick = allowed[choice];
      const preempt = lastCanGo && waiting[pick].actor !== last ? 1 : 0;
      taken.push({ choice, options: allowed.length });
      used += preempt;
      return pick;
    });
    let d = taken.length - 1;
    while (d >= 0 && taken[d].choice + 1 >= taken[d].options) d--;
    if (d < 0) return { runs, complete: true };
    if (runs >= limit) return { runs, complete: false };
    prefix = [...taken.slice(0, d).map((t) => t.choice), taken[d].choice + 1];
  }
}

/** A seeded random chooser over the waiting actors (Park-Miller minimal standard generator). */
export function randomChooser(seed: number): Chooser {
  let a = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  const next = () => {
    a = (a * 48271) % 2147483647;
    return (a - 1) / 2147483646;
  };
  return (waiting) => {
    const actors = [...new Set(waiting.map((w) => w.actor))];
    const actor = actors[Math.floor(next() * actors.length)];
    return waiting.findIndex((w) => w.actor === actor);
  };
}
