/**
 * The units side of a run (runtime/run.ts), kept apart from the run's own sequence: a
 * resumable run's units (io/units UnitRun) opened, fed and reported; a cluster unit's staging
 * into its attempt directories; the job commit's replay of the staged units into the sinks.
 * The run decides when each happens; this module says how.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { Sink } from '../io/sinks';
import { resolveInputs, type FixedSourceTypes } from '../io/sources';
import { UnitRun, fingerprintOf } from '../io/units/units';
import { cutUnits } from '../io/units/ranges';
import { UnitStager } from '../io/units/staging';
import { sinkLabel } from '../io/units/failures';
import { IoQueue } from '../io/units/io-queue';
import { stagedWriter } from '../io/units/staging-thread';
import type { UnitSpec } from '../batch/unit-tag';
import { OwnedBatch } from '../batch/owned';
import { SinkError } from '../errors';
import type { Plan } from '../plan/types';
import type { UnitCut } from './unit-cut';
import type { PartialsWork } from './unit-partials';
import type { Rejects } from './rejects';
import type { Scheduler, SchedulerSink, SchedulerSource } from './scheduler';
import type { Teardown } from './teardown';
import type { RunOptions, RunReport, StageUnit } from './types';

/** What the job commit uses of a run's units: a resumable run's (UnitRun) or a cluster run's at its commit job (StagedUnits). */
export type Units = Pick<UnitRun, 'todo' | 'todoUnits' | 'keyOf' | 'noteItem' | 'schema' | 'done' | 'unitEnd' | 'carried' | 'finishUnits' | 'abort' | 'replay' | 'replayUnits' | 'rows' | 'committed' | 'report'> & { write(k: number, batch: RecordBatch, sourceFile: string | undefined, seq?: number): Promise<void> | undefined };

/** The one key a cluster unit's rejects are held under (it reads one unit: runtime/rejects.ts holds them per unit). */
export const UNIT_REJECTS = 'unit';

/**
 * A resumable run's units, opened with every target locked: new, resumed or restarted
 * (opts.units). The source's column types are fixed once, by the run's first file, and kept in
 * the manifest (a resumed run reads its units with them): an incremental run's come from its
 * earlier runs; otherwise the run's own source tells them (`recordTypes`) as its reader fixes
 * them, before its first batch, so before any unit is recorded. Reading them here first cost
 * every run a second parse of the first file's inference rows on the main thread, before the
 * source could open: 0.4-1.3 s of start-up on a loaded machine, most of issue 26's overhead.
 */
export async function openUnits(
  plan: Plan,
  targets: string[],
  opts: RunOptions,
  log: NonNullable<RunOptions['log']>,
  cuts: number,
  loose: number | undefined,
  /** The sinks after the cut (unit-cut.ts): written by the run itself, never staged per unit. */
  unstaged: readonly number[],
  /** An incremental run: the files it reads, and the column types its earlier runs fixed. */
  only?: { files: string[]; schema?: { csv?: unknown; ndjson?: unknown }; hashes?: ReadonlyMap<string, { sha256: string }> },
): Promise<UnitRun> {
  const files = only?.files ?? resolveInputs(plan.source.path, plan.source.baseDir);
  const specs = await cutUnits(files, plan.source.format, plan.source.unitRows);
  const names = [...plan.sinks.map((s) => s.name), ...(loose !== undefined ? ['deadLetter'] : [])];
  const units = UnitRun.open({ targets, files, units: specs, fingerprint: planFingerprint(plan), ...(only?.hashes && { hashes: only.hashes }), mode: opts.units ?? 'fresh', cuts, loose, unstaged, names, log });
  if (!units.schema && only?.schema) units.recordSchema(only.schema);
  log.info({ runId: units.runId, units: specs.length, done: units.done.size }, units.done.size ? 'resuming: units committed earlier are not read again' : 'resumable run: units staged');
  return units;
}

/** What a run's output is made from: the config file, its params and paths, each stage's options and module (not modes or copies: every mode gives the same answer). */
export function planFingerprint(plan: Plan): ReturnType<typeof fingerprintOf> {
  const settings = { source: { ...plan.source, thread: undefined, readAhead: undefined }, sinks: plan.sinks.map((s) => s.config), params: plan.params.values, stages: plan.stages.map((s) => [s.name, s.options, s.key]) };
  const modules = plan.stages.flatMap((s) => [{ name: s.name, modulePath: s.modulePath }, ...(s.fused ?? []).map((f) => ({ name: f.name, modulePath: f.modulePath }))]);
  return fingerprintOf(plan.configFile, settings, modules);
}

/**
 * A resumable run: the batches the source read per unit (by its key), and its rows (passed on,
 * and taken out by the source), kept in each unit's manifest line with what the unit rejected
 * (units.unitEnd): a resumed run numbers its rejects' batches and measures a maxErrors share as
 * an uninterrupted run would. Returns the count of one unit, to add to.
 */
export function countReads(units: Units | undefined, unitRejects: Rejects | undefined): (key: string) => { batches: number; rows: number } {
  const readOf = new Map<string, { batches: number; rows: number }>();
  if (units && unitRejects) {
    units.unitEnd = (key) => {
      const { batches, rejected, counts, first } = unitRejects.take(key);
      const read = readOf.get(key) ?? { batches: 0, rows: 0 };
      readOf.delete(key);
      return { loose: batches, rejected, rejectCounts: counts, firstRejects: first, sourceBatches: read.batches, sourceRows: read.rows };
    };
  }
  return (key) => readOf.get(key) ?? readOf.set(key, { batches: 0, rows: 0 }).get(key)!;
}

/**
 * What the source of a resumable run that has no column types yet is told to call once its
 * first file fixes them (CSV, NDJSON): they go into the manifest. Undefined when none is needed.
 */
export function recordTypes(units: UnitRun | undefined, format: Plan['source']['format']): ((types: FixedSourceTypes) => void) | undefined {
  if (!units || units.schema || (format !== 'csv' && format !== 'ndjson')) return undefined;
  return (types) => units.recordSchema({ ...types });
}

/** A resumable run's sink k: its batches staged unit by unit (io/units), written to the sink at the commit. */
export function stagingAdapter(units: Units, k: number): SchedulerSink {
  return {
    write(item) {
      return item.consume(async () => {
        for (const batch of item.batches) await units.write(k, batch, item.sourceFile, item.seq);
      });
    },
  };
}

/** The cut's staged batches of every unit, in input order, as a source (each batch from its unit's input file). */
export function replaySource(units: Units, stream: number): SchedulerSource {
  const replay = units.replayUnits(stream);
  return {
    async next() {
      const r = replay.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: OwnedBatch.plain(0, [r.value.batch], r.value.file) };
    },
    async close() {
      replay.return(undefined);
    },
  };
}

/**
 * The job commit's replay into the sinks not written live (`live`: a live tail's): each of
 * `headSinks` gets its staged batches of every unit, in input order; then the dead-letter
 * output (`deadSink`, staged as stream `deadStream`) the units' rejected rows. Returns the
 * dead-letter batches replayed (rows rejected from here on follow them).
 */
export async function replayIntoSinks(units: Units, headSinks: readonly number[], live: ReadonlySet<number>, sinks: readonly Sink[], deadSink: Sink | undefined, deadStream: number): Promise<number> {
  for (const k of headSinks) if (!live.has(k)) for (const batch of units.replay(k)) await sinks[k].write(batch);
  let replayed = 0;
  if (deadSink) {
    for (const batch of units.replay(deadStream)) {
      await deadSink.write(batch);
      replayed++;
    }
  }
  return replayed;
}

/** Per input file read from a range of its row groups (not its first): the file's rows before it, so row numbers stay the file's. */
export function rowsBefore(read: readonly UnitSpec[] | undefined): Map<string, number> | undefined {
  const before = new Map<string, number>();
  for (const u of read ?? []) if (u.firstRow !== undefined && !before.has(u.file)) before.set(u.file, u.firstRow);
  return before.size ? before : undefined;
}

/**
 * A run's units in its report; cut before a stateful stage, where its tail ran (live, or at the
 * commit over the staged cut: its batches), or that its stage staged per-unit partials instead.
 */
export function unitsReport(units: Units, cut: UnitCut | undefined, live: boolean, tail: Scheduler | undefined, partials?: PartialsWork): RunReport['units'] {
  const report = units.report();
  if (cut && partials) {
    const { stage, staged, stagedRows, reused, renews } = partials;
    return { ...report, tail: { ran: 'partials', replayed: 0, partials: { stage, staged, stagedRows, reused, renews, flushMs: Math.round(partials.flushMs), renewMs: Math.round(partials.renewMs) } } };
  }
  return cut ? { ...report, tail: { ran: live ? 'live' : 'commit', replayed: tail?.sourceMeter.batches ?? 0 } } : report;
}

/**
 * A unit of a cluster run (RunOptions.stageUnit): every sink's batches staged in its attempt
 * directory, and the cut's output before a stateful stage (for the commit job's tail) and its
 * dead-lettered rows (once the unit is read: they come in no order) beside the first sink's.
 * Its file work goes through one ordered queue off the main thread, as a resumable run's does.
 */
export class ClusterUnitStaging {
  private readonly io = new IoQueue();
  /** Where the unit's files are written (a thread of their own: io/units/staging-thread.ts). */
  private readonly writer = stagedWriter();
  private readonly dirs: string[];
  private readonly stagers: UnitStager[];
  private readonly cutDir: string | undefined;
  private readonly deadDir: string | undefined;

  constructor(
    private readonly unit: StageUnit,
    cut: boolean,
    deadLetter: boolean,
    teardown: Teardown,
    /** The plan's sinks: their names and absolute targets, for a failure's message (io/units/failures.ts). */
    sinks: { names: string[]; targets: string[]; deadLetter?: string } = { names: [], targets: [] },
  ) {
    this.cutDir = cut ? path.join(unit.dirs[0], 'cut-0') : undefined;
    this.deadDir = deadLetter ? path.join(unit.dirs[0], 'dead-letter') : undefined;
    this.dirs = [...unit.dirs, ...(this.cutDir ? [this.cutDir] : []), ...(this.deadDir ? [this.deadDir] : [])];
    const first = sinkLabel(sinks.names[0] ?? 'sink', sinks.targets[0] ?? unit.dirs[0]);
    const labels = [
      ...unit.dirs.map((dir, k) => sinkLabel(sinks.names[k] ?? `sink ${k + 1}`, sinks.targets[k] ?? dir)),
      ...(this.cutDir ? [{ ...first, text: `the output before the stateful stage, staged beside ${first.text}` }] : []),
      ...(this.deadDir ? [sinkLabel('deadLetter', sinks.deadLetter ?? this.deadDir)] : []),
    ];
    const inputOf = () => unit.file;
    this.stagers = this.dirs.map((dir, k) => new UnitStager(dir, path.join(dir, '_inprogress'), () => undefined, this.io, this.writer, labels[k], inputOf));
    for (const dir of this.dirs) mkdirSync(path.join(dir, 'units'), { recursive: true });
    teardown.add('the unit being staged', {
      abort: async () => {
        this.stagers.forEach((s) => s.abort());
        await this.io.settled();
        await this.writer.close();
      },
    });
  }

  /** Sink k's batches, staged as this one unit's. */
  sink(k: number): SchedulerSink {
    return this.adapter(this.stagers[k]);
  }

  /** The cut's output (runtime/unit-cut.ts), staged as this unit's; undefined without a cut. */
  cutSink(): SchedulerSink | undefined {
    return this.cutDir ? this.adapter(this.stagers[this.unit.dirs.length]) : undefined;
  }

  /**
   * The unit is read: its dead-lettered rows staged and every file durable in its attempt
   * directories (the commit job checks and publishes it with the others). `sourceItems`, `sourceRows`: what the source read of it. Returns the
   * report's fields that say what was staged.
   */
  async finish(rejects: Rejects, teardown: Teardown, sourceItems: number, sourceRows: number): Promise<Pick<RunReport, 'staged' | 'stagedCut' | 'stagedDead' | 'stagedRejects'>> {
    await teardown.race(rejects.drain());
    const taken = rejects.take(UNIT_REJECTS);
    if (rejects.heldRows > 0 || taken.rejected !== rejects.total) throw new SinkError(`${rejects.total - taken.rejected} rejected rows of unit ${this.unit.unit} (${this.unit.file}) have no input file; nothing was staged (a bug in sluice: please report it with the run's log)`);
    // Not awaited: these batches are the run's own (runtime/rejects.ts); the unit's fsync waits for them.
    if (this.deadDir) for (const batch of taken.batches) void this.stagers[this.dirs.length - 1].write(batch, this.unit.unit);
    this.stagers.forEach((s) => s.finish());
    await teardown.race(this.io.idle());
    await this.writer.close();
    const staged = this.stagers.map((s, k) => {
      const done = s.staged.get(this.unit.unit);
      return done ? { file: path.join(this.dirs[k], done.file), rows: done.rows } : null;
    });
    return {
      staged: staged.slice(0, this.unit.dirs.length),
      ...(this.cutDir !== undefined && { stagedCut: staged[this.unit.dirs.length] }),
      ...(this.deadDir !== undefined && { stagedDead: staged[this.dirs.length - 1] }),
      stagedRejects: { rejected: taken.rejected, rejectCounts: taken.counts, firstRejects: taken.first, sourceBatches: sourceItems, sourceRows },
    };
  }

  private adapter(stager: UnitStager): SchedulerSink {
    const unit = this.unit.unit;
    return {
      write(item) {
        return item.consume(async () => {
          // Held until written: the write views the batch's memory (io/units/frames.ts).
          for (const batch of item.batches) await stager.write(batch, unit);
        });
      },
    };
  }
}
