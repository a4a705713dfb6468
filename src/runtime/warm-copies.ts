/**
 * Warm copies: a worker keeps the copies of a run's stages (thread pools, child processes, the
 * Parquet encoder's threads) from one unit of that run to the next, instead of starting them
 * cold for every unit (a thread or child boots Node, apache-arrow, polars, the TS loader and the
 * stage module, then runs `setup`: most of a small unit's time; see bench/cluster.ts).
 *
 * What may be kept: a copy of a stage without `flush` keeps nothing the output depends on from
 * one batch to the next, so serving two units is what it does within one run anyway; `setup`
 * runs once per copy (and again in a copy that replaces a dead one, as the supervisor does). A
 * stage with `flush` keeps state across batches: its copies are started per unit (cold), never
 * kept. So are inline stages (their module is cached in this process already; `setup` runs per
 * unit on the main thread, in the unit's own run guard) and keyed stages (their router keeps per
 * run routing). The Parquet encoding stage is made per unit (its row-group cutting is per unit)
 * around an encoder pool lent to it (operators/parquet-encode.ts LentEncoderPool).
 *
 * One unit at a time holds a set (a worker running two units at once has two sets): a unit
 * takes an idle set of its run or starts a new one, and gives it back when the unit succeeded.
 * A unit that failed (whatever failed: its source, a stage, its staging) has its copies stopped
 * by its run's teardown, as a run's are, and its set is dropped, not given back: the next unit
 * starts a new one, so one unit's failure neither kills copies another unit is using nor leaves
 * a broken copy to the next. A copy that dies between units (outside any run) drops its set too.
 *
 * The copies are started outside any unit's run guard (runtime/guard.ts: what escapes from them
 * fails no single unit wrongly), and stopped when the run's commit job comes to this worker (the
 * run's units are all done), when the queue has no job waiting (BullMQ's 'drained': a unit
 * retried later starts cold), after `idleMs` without a unit of that run, or when the worker stops.
 */
import type { Logger } from 'pino';
import type { BatchLocation, SluiceError } from '../errors';
import { createExecutor, type StageExecutor, type TransportStats } from '../executors';
import type { OwnedBatch } from '../executors/types';
import { keepsState } from '../executors/keeps-state';
import { EncoderPool } from '../io/parquet/encoder/pool';
import { ParquetEncodeExecutor, type LentEncoderPool } from '../operators/parquet-encode';
import type { Plan, PlannedStage } from '../plan/types';
import type { Adopter } from './run';

/** How long a run's idle copies wait for its next unit before they are stopped. */
export const WARM_IDLE_MS = 60_000;

/** A stage's copies, started once, used by one unit at a time. */
class WarmStage {
  /** A death outside any unit's use, or the first of a unit's: the set is not used again. */
  dead: SluiceError | undefined;
  /** The fatal listener of the unit holding it (its scheduler's). */
  listener: ((err: SluiceError) => void) | undefined;

  constructor(
    readonly executor: StageExecutor,
    readonly ready: Promise<void>,
  ) {
    executor.onFatal((err) => {
      this.dead ??= err;
      this.listener?.(err);
    });
  }
}

/** The Parquet encoder's threads of one encoding stage, kept; lent to each unit's encoding executor. */
class WarmEncoder implements LentEncoderPool {
  dead: Error | undefined;
  private where: () => BatchLocation;
  private onDeath: ((err: Error) => void) | undefined;
  readonly pool: EncoderPool;

  constructor(stage: PlannedStage) {
    this.where = () => ({ stage: stage.name });
    this.pool = new EncoderPool({ threads: stage.copies, where: () => this.where() });
    this.pool.onDeath((err) => {
      this.dead ??= err;
      this.onDeath?.(err);
    });
  }

  lend(where: () => BatchLocation, onDeath: (err: Error) => void): EncoderPool {
    this.where = where;
    this.onDeath = onDeath;
    return this.pool;
  }
}

/** Every kept stage of one plan, for one unit at a time. */
export class WarmSet {
  /** Times a unit has taken this set (1: its first unit, cold). */
  uses = 0;
  private constructor(
    readonly plan: Plan,
    private readonly stages: Map<PlannedStage, WarmStage>,
    private readonly encoders: Map<PlannedStage, WarmEncoder>,
  ) {}

  /** Start the copies of `plan`'s stages that may be kept. */
  static async start(plan: Plan, log: Logger): Promise<WarmSet> {
    const stages = new Map<PlannedStage, WarmStage>();
    const encoders = new Map<PlannedStage, WarmEncoder>();
    for (const stage of plan.stages) {
      if (stage.encode) {
        encoders.set(stage, new WarmEncoder(stage));
        continue;
      }
      if (!(await keptWarm(stage))) continue;
      const executor = createExecutor(stage, { log });
      const ready = executor.start();
      ready.catch(() => undefined); // raced by the unit that adopts it (its run fails with its own error)
      stages.set(stage, new WarmStage(executor, ready));
    }
    return new WarmSet(plan, stages, encoders);
  }

  /** Whether every copy kept is alive (none died, none was stopped by a failed unit). */
  get healthy(): boolean {
    return [...this.stages.values()].every((s) => !s.dead) && [...this.encoders.values()].every((e) => !e.dead && e.pool.alive);
  }

  /** Copies the set keeps (tests, the bench). */
  get kept(): { stages: string[]; encoders: string[] } {
    return { stages: [...this.stages.keys()].map((s) => s.name), encoders: [...this.encoders.keys()].map((s) => s.name) };
  }

  /** What one unit's run adopts: the kept copies, behind executors whose close() keeps them and whose abort() stops them. */
  adopter(log: Logger, onAbort: () => void): Adopter {
    return {
      adopt: (plan, stage) => {
        if (plan.stages !== this.plan.stages) throw new Error('warm copies: adopted by the run of another plan');
        const warm = this.stages.get(stage);
        if (warm) return { executor: new Leased(warm, onAbort), ready: warm.ready };
        const encoder = this.encoders.get(stage);
        if (encoder) {
          const executor = new ParquetEncodeExecutor(stage, { log, lent: encoder });
          return { executor, ready: executor.start() };
        }
        return undefined;
      },
      // Nothing is handed out that the run does not adopt: every kept stage is adopted.
      discard: async () => undefined,
    };
  }

  /** Stop every copy: gracefully when they are idle and healthy, at once otherwise. Never throws. */
  async stop(graceful: boolean): Promise<void> {
    await Promise.allSettled([
      ...[...this.stages.values()].map(async (s) => {
        await s.ready.catch(() => undefined);
        await (graceful && !s.dead ? s.executor.close().catch(() => s.executor.abort()) : s.executor.abort());
      }),
      ...[...this.encoders.values()].map((e) => e.pool.destroy()),
    ]);
  }
}

/** A stage whose copies may serve several units: thread or process, no flush in it or a member fused into it, no keyed routing. */
async function keptWarm(stage: PlannedStage): Promise<boolean> {
  if (stage.mode === 'inline' || stage.partition || (stage.key?.length && stage.copies > 1)) return false;
  for (const m of [stage, ...(stage.fused ?? [])]) {
    if (!m.modulePath || (await keepsState(m.modulePath))) return false;
  }
  return true;
}

/**
 * A kept stage as one unit's run sees it: batches go to the kept copies; flush() has nothing to
 * flush (a kept stage has no flush); close() leaves the copies running for the next unit;
 * abort() (the unit failed) stops them, and the set is not used again.
 */
class Leased implements StageExecutor {
  readonly stage: string;
  readonly mode: StageExecutor['mode'];
  readonly copies: number;
  readonly slots: number;
  /** The transport counters before this unit: stats() counts this unit's. */
  private readonly before: TransportStats;
  readonly processOn?: StageExecutor['processOn'];

  constructor(
    private readonly warm: WarmStage,
    private readonly onAbort: () => void,
  ) {
    const e = warm.executor;
    this.stage = e.stage;
    this.mode = e.mode;
    this.copies = e.copies;
    this.slots = e.slots;
    this.before = e.stats();
    if (e.processOn) this.processOn = (copy, input) => e.processOn!(copy, input);
  }

  start(): Promise<void> {
    return this.warm.ready;
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    return this.warm.executor.process(input);
  }

  async flush(): Promise<OwnedBatch[]> {
    return [];
  }

  async close(): Promise<void> {
    this.warm.listener = undefined;
  }

  async abort(): Promise<void> {
    this.warm.listener = undefined;
    this.onAbort();
    await this.warm.executor.abort();
  }

  leaveOut(perMember: readonly (readonly string[])[]): void {
    this.warm.executor.leaveOut?.(perMember);
  }

  onFatal(listener: (err: SluiceError) => void): void {
    this.warm.listener = listener;
    if (this.warm.dead) listener(this.warm.dead);
  }

  stats(): TransportStats {
    const now = this.warm.executor.stats();
    return { bytesCopied: now.bytesCopied - this.before.bytesCopied, bytesPacked: now.bytesPacked - this.before.bytesPacked, bytesSerialized: now.bytesSerialized - this.before.bytesSerialized };
  }

  retries(): ReturnType<NonNullable<StageExecutor['retries']>> {
    return this.warm.executor.retries?.();
  }

  parsed(): ReturnType<NonNullable<StageExecutor['parsed']>> {
    return this.warm.executor.parsed?.() ?? { rows: 0, threads: [] };
  }

  childPeakRss(): number[] {
    return this.warm.executor.childPeakRss?.() ?? [];
  }
}

/**
 * A worker's warm copies, per run: idle sets waiting for the run's next unit. `take` gives a
 * unit one (an idle one, or a new one started now); `give` takes it back after the unit.
 */
export class WarmCopies {
  private readonly runs = new Map<string, { idle: WarmSet[]; timer: NodeJS.Timeout | undefined }>();
  private stopped = false;
  /** Sets started, and units that took a set already used (tests, the bench). */
  readonly counts = { started: 0, reused: 0, dropped: 0 };

  constructor(private readonly idleMs = WARM_IDLE_MS) {}

  /** A set for a unit of `runId` (whose plan is `plan`): idle and healthy if there is one, else new. */
  async take(runId: string, plan: Plan, log: Logger): Promise<WarmSet> {
    const run = this.runs.get(runId);
    if (run?.timer) clearTimeout(run.timer);
    if (run) run.timer = undefined;
    while (run?.idle.length) {
      const set = run.idle.pop()!;
      if (set.plan.stages === plan.stages && set.healthy) {
        set.uses++;
        this.counts.reused++;
        return set;
      }
      this.counts.dropped++;
      void set.stop(false);
    }
    const set = await WarmSet.start(plan, log);
    set.uses = 1;
    this.counts.started++;
    return set;
  }

  /** The unit is over: `ok`, its set waits for the run's next unit; failed, its copies are stopped. */
  async give(runId: string, set: WarmSet, ok: boolean): Promise<void> {
    if (!ok || !set.healthy || this.stopped) {
      this.counts.dropped++;
      await set.stop(ok && set.healthy);
      return;
    }
    const run = this.runs.get(runId) ?? { idle: [], timer: undefined };
    this.runs.set(runId, run);
    run.idle.push(set);
    if (run.timer) clearTimeout(run.timer);
    run.timer = setTimeout(() => void this.end(runId), this.idleMs);
    run.timer.unref(); // idle copies never keep the worker alive
  }

  /** The run's units are all done (its commit job came), or it went idle: stop its copies. */
  async end(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run) return;
    this.runs.delete(runId);
    if (run.timer) clearTimeout(run.timer);
    await Promise.all(run.idle.map((s) => s.stop(true)));
  }

  /** No job waits in the queue (BullMQ's 'drained'): no unit of any run is coming here now, so every idle copy goes. */
  async endIdle(): Promise<void> {
    await Promise.all([...this.runs.keys()].map((id) => this.end(id)));
  }

  /** The worker stops: every idle copy goes; sets given back from now on are stopped at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.runs.keys()].map((id) => this.end(id)));
  }

  /** Runs with idle copies (tests). */
  get idleRuns(): string[] {
    return [...this.runs.keys()];
  }
}
