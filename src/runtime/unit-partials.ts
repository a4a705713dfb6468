/**
 * A resumable run's stage with `flush` and `combine` (an aggregate), run per unit instead of
 * over a staged cut (runtime/unit-cut.ts): each unit's rows go through their own instance of
 * the stage (the copies' module loaded afresh and set up again at every unit edge, in the same
 * threads or children: StageExecutor.flushUnit), its flushed rows at the unit's end are the
 * unit's *partial*, staged durably with the unit (a stream of its own, as the cut's input was),
 * and the stage's output is `combine` over every unit's partials in unit order, at the end. A
 * resumed run reads the partials of the units it does not read again from the staging, so it
 * combines exactly what an uninterrupted run combines, and everything after the stage runs
 * live in both. What this saves: staging every row the stage reads (the nightly job's 242 MB
 * at 2 M rows, written and fsynced) for its partials (its groups, and what they need to merge).
 *
 * The stage's `process` must pass nothing on (its output is `combine`'s): rows it passes would
 * be missing from a resumed run's output, for the units not read again; they fail the run.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { OwnedBatch } from '../batch/owned';
import { StageError } from '../errors';
import type { StageExecutor } from '../executors/types';
import { combineFlushed } from '../executors/combine';
import type { PlannedStage } from '../plan/types';

/** What the wrapper needs of the run's units (io/units/units.ts UnitRun). */
export interface PartialUnits {
  unitOf(batch: RecordBatch | undefined, sourceFile: string | undefined, seq: number | undefined): number | undefined;
  writeUnit(k: number, batch: RecordBatch, unit: number): Promise<void>;
  doneUnits(k: number): { unit: number; batches: RecordBatch[] }[];
}

/** What the report says of the partials (RunReport units.tail). */
export interface PartialsWork {
  stage: string;
  /** Units whose partials this run made and staged, and their rows. */
  staged: number;
  stagedRows: number;
  /** Units whose partials an earlier attempt staged (read back for the combine). */
  reused: number;
  /** Milliseconds spent at unit edges: flushing the copies, and loading and setting up their fresh instances (renews: how many times). */
  flushMs: number;
  renewMs: number;
  renews: number;
}

/**
 * `inner` (the stage's executor, started) wrapped so the scheduler sees one stage as before:
 * `process` keeps input order (the channel is ordered) and ends a unit when an item of the
 * next one comes; `flush` ends the last unit and returns the combined output.
 */
export function perUnitPartials(inner: StageExecutor, planned: PlannedStage, units: PartialUnits, stream: number, log: Logger): StageExecutor & { partials(): PartialsWork } {
  if (!inner.flushUnit || !inner.renew) throw new Error(`internal: stage "${planned.name}" (${inner.mode}) cannot flush per unit`);
  const flushUnit = inner.flushUnit.bind(inner);
  const renewCopies = inner.renew.bind(inner);
  /** This run's partials by unit (held until the combine: they are the stage's state, small). */
  const made = new Map<number, OwnedBatch[]>();
  const work: PartialsWork = { stage: planned.name, staged: 0, stagedRows: 0, reused: 0, flushMs: 0, renewMs: 0, renews: 0 };
  let current: number | undefined;
  /** Tasks of the current unit (a unit ends once they have settled). */
  let inFlight = new Set<Promise<unknown>>();
  /** Settles when the last unit edge has been passed: every task after it waits for it. */
  let edge: Promise<void> = Promise.resolve();

  async function endUnit(unit: number, renew: boolean): Promise<void> {
    const t0 = performance.now();
    const parts = await flushUnit();
    const t1 = performance.now();
    made.set(unit, parts);
    let rows = 0;
    for (const part of parts) {
      for (const batch of part.batches) {
        rows += batch.numRows;
        await units.writeUnit(stream, batch, unit);
      }
    }
    work.staged++;
    work.stagedRows += rows;
    work.flushMs += t1 - t0;
    if (!renew) return;
    const t2 = performance.now();
    await renewCopies();
    work.renewMs += performance.now() - t2;
    work.renews++;
    log.debug({ stage: planned.name, unit: unit + 1, rows, flushMs: Math.round(t1 - t0), renewMs: Math.round(performance.now() - t2) }, 'unit partial staged');
  }

  function process(input: OwnedBatch): Promise<OwnedBatch> {
    const unit = units.unitOf(input.batches[0], input.sourceFile, input.seq) ?? current;
    if (current !== undefined && unit !== current) {
      const ending = current;
      const before = [...inFlight];
      inFlight = new Set();
      edge = edge.then(async () => {
        await Promise.allSettled(before);
        await endUnit(ending, true);
      });
    }
    current = unit;
    const task = edge.then(
      () => inner.process(input),
      (err: unknown) => {
        input.release();
        throw err;
      },
    ).then((out) => {
      const rows = out.batches.reduce((n, b) => n + b.numRows, 0);
      if (rows === 0) return out;
      out.release();
      throw new StageError({ stage: planned.name, seq: input.seq, sourceFile: input.sourceFile }, 'process', new Error(
        `it has combine() and passed ${rows} rows on from process(): a resumable run runs it per input file and passes on only what combine() makes of every file's flush(), so rows process() passes on would be lost for the files a resumed run does not read again; return nothing from process(), or drop combine() (the rows it reads are then staged instead: docs/failures.md)`,
      ));
    });
    const tracked = task.catch(() => undefined);
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
    return task;
  }

  async function flush(): Promise<OwnedBatch[]> {
    await Promise.allSettled([...inFlight]);
    await edge;
    if (current !== undefined) await endUnit(current, false);
    // Every unit's partials in unit order: an earlier attempt's read back, this run's as made.
    const all = new Map<number, OwnedBatch[]>(made);
    for (const { unit, batches } of units.doneUnits(stream)) {
      if (all.has(unit)) throw new Error(`internal: unit ${unit + 1} was committed by an earlier attempt and read again by this one`);
      all.set(unit, batches.length ? [OwnedBatch.plain(-1, batches)] : []);
      work.reused++;
    }
    made.clear();
    const ordered = [...all.keys()].sort((a, b) => a - b).flatMap((u) => all.get(u)!);
    return combineFlushed(planned, ordered, { log });
  }

  return {
    get stage() {
      return inner.stage;
    },
    get mode() {
      return inner.mode;
    },
    get copies() {
      return inner.copies;
    },
    get slots() {
      return inner.slots;
    },
    runningStage: inner.runningStage?.bind(inner),
    startingStage: inner.startingStage?.bind(inner),
    start: () => inner.start(),
    launched: inner.launched?.bind(inner),
    process,
    flush,
    close: () => inner.close(),
    async abort() {
      for (const parts of made.values()) for (const p of parts) p.release();
      made.clear();
      await inner.abort();
    },
    leaveOut: inner.leaveOut?.bind(inner),
    onFatal: (listener) => inner.onFatal(listener),
    stats: () => inner.stats(),
    retries: inner.retries?.bind(inner),
    childPeakRss: inner.childPeakRss?.bind(inner),
    partials: () => ({ ...work }),
  };
}
