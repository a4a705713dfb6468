/**
 * One run: open the sinks and the source, start every stage's copies, let the scheduler move
 * the batches through the graph, then close, commit every sink together and report. What it
 * opens is registered in its teardown (teardown.ts); on any failure that tears everything
 * down in one place (stops the copies, removes every sink's temporary output) and the run
 * throws the first error with the run report attached.
 */
import path from 'node:path';
import type { StageExecutor } from '../executors';
import { commitTogether, openSinks, type Sink, type SinkResult } from '../io/sinks';
import { OutputSchema } from '../io/sinks/output-schema';
import { appendSchemaCheck } from '../io/sinks/append-schema';
import { fixSourceTypes, openCsvChunks, openSource, type BadRow, type FixedSourceTypes, type Source } from '../io/sources';
import { refuseLeftUnits, stagedInputs, unitRunId, type UnitRun } from '../io/units/units';
import { fileOfUnitKey, type UnitSpec } from '../batch/unit-tag';
import { StagedUnits } from '../io/units/staged-units';
import { ParquetEncodeExecutor } from '../operators/parquet-encode';
import { csvChunkItem } from '../csv/item';
import { openThreadSource } from '../io/sources/thread';
import { createRootLogger } from '../log';
import { PROGRESS_INTERVAL_MS } from '../defaults';
import { ConfigError, SinkError, StageError } from '../errors';
import { STRICT_SLABS, movedOn } from '../batch/generation';
import { ENUMERATED_MESSAGE, LEFT_OUT_MESSAGE } from '../batch/left-out-guard';
import type { Plan, PlannedSink } from '../plan/types';
import { leftOutPerStage } from '../plan/left-out';
import { Channel } from './channel';
import { cutAtState, localTopology, unitStateOf, type UnitCut, type UnitState } from './unit-cut';
import { perUnitPartials, type PartialsWork } from './unit-partials';
import type { OwnedBatch } from '../batch/owned';
import { round, type StageMeter } from './metrics';
import { Scheduler, type OutputCheck, type RowErrorPolicy, type SchedulerSink, type SchedulerSource } from './scheduler';
import { ProgressTracker, type ProgressSource } from './progress';
import { SampleRecorder } from './samples';
import { inputSize } from './input-size';
import { executorFor } from './executor-for';
import { attachFailure } from './report-attach';
import { Rejects } from './rejects';
import { keepsState, mergesPartials } from '../executors/keeps-state';
import { RunGuard } from './guard';
import { Teardown } from './teardown';
import { IncrementalRun, incrementalSinkConfigs, refuseStateful } from './incremental';
import type { EarlyStart } from './early-start';
import type { EncoderWork, RunOptions, RunReport, SinkReport } from './types';
import { ClusterUnitStaging, UNIT_REJECTS, countReads, openUnits, recordTypes, replayIntoSinks, replaySource, rowsBefore, stagingAdapter, unitsReport, type Units } from './run-units';

export { reportOf } from './report-attach';
export { planFingerprint } from './run-units';

/**
 * Run `plan`. `early`: copies started for this plan while its checks ran (early-start.ts); the
 * run adopts them, and stops them with everything else if it fails.
 *
 * Everything the run opens is registered in its teardown (teardown.ts) as it is opened; the
 * first error tears it all down there, in reverse order, and is what the run throws.
 */
/**
 * What a run adopts instead of starting copies itself: copies started early (early-start.ts),
 * or a cluster worker's warm copies (runtime/warm-copies.ts). A stage it has none for starts as usual.
 */
export type Adopter = Pick<EarlyStart, 'adopt' | 'discard'>;

export async function runPlan(plan: Plan, opts: RunOptions = {}, early?: Adopter): Promise<RunReport> {
  let scheduler: Scheduler | undefined;
  /** Copies still starting (module load, setup): before the scheduler exists, a stall names them. */
  const starting = new Set<StageExecutor>();
  const teardown = new Teardown();
  const guard = new RunGuard(opts.signal, () => scheduler?.describePending() ?? startingWords(starting), teardown);
  // Whatever the run does not adopt (nothing, once it got that far).
  if (early) teardown.add('copies started early', { abort: () => early.discard(), release: () => early.discard() });
  const report = await guard.scope(() => runBatches(plan, opts, guard, teardown, (s) => (scheduler = s), early, starting));
  for (const failure of await teardown.close()) (opts.log ?? createRootLogger()).warn({ err: failure }, 'after the commit: ' + failure.message);
  return report;
}

/** What a run still starting waits for, in words: the stages whose copies have not started (in a fused group, the member and its phase). */
function startingWords(starting: ReadonlySet<StageExecutor>): string {
  const parts = [...starting].map((e) => {
    const at = e.startingStage?.();
    return at ? `stage "${at.stage}" (${e.mode}) in its start-up (${at.phase === 'load' ? 'loading its module' : 'setup()'})` : `stage "${e.stage}" (${e.mode}) in its start-up`;
  });
  return parts.length ? parts.join('; ') : 'start-up';
}

async function runBatches(plan: Plan, opts: RunOptions, guard: RunGuard, teardown: Teardown, started: (s: Scheduler) => void, early: Adopter | undefined, starting: Set<StageExecutor>): Promise<RunReport> {
  const log = opts.log ?? createRootLogger();
  const startedAt = new Date();
  const t0 = performance.now();
  // A Parquet sink's encoding is a stage of the run: what its threads did (per sink; all together for the live display).
  const encoderOf = (stage: StageExecutor | undefined): EncoderWork | undefined => {
    if (!(stage instanceof ParquetEncodeExecutor)) return undefined;
    const w = stage.work();
    return { threadsStarted: w.threadsStarted, groupsOnMainThread: w.groupsOnMainThread, busyMs: round(w.busyMs), slotWaitMs: round(w.slotWaitMs) };
  };
  const encoders = (): (EncoderWork | undefined)[] => plan.sinks.map((s) => (s.from >= 0 ? encoderOf(executors[s.from]) : undefined));
  const encoder = (): EncoderWork | undefined => {
    const all = encoders().filter((e): e is EncoderWork => e !== undefined);
    if (!all.length) return undefined;
    return { threadsStarted: all.reduce((n, e) => n + e.threadsStarted, 0), groupsOnMainThread: all.reduce((n, e) => n + e.groupsOnMainThread, 0), busyMs: round(all.reduce((n, e) => n + e.busyMs, 0)), slotWaitMs: round(all.reduce((n, e) => n + e.slotWaitMs, 0)) };
  };
  let source: Source | undefined;
  let scheduler: Scheduler | undefined;
  /** A resumable run's stages from the first stateful one on, run over the staged cut at the commit (unit-cut.ts). */
  let tailScheduler: Scheduler | undefined;
  let cut: UnitCut | undefined;
  /** A resumable run's way across units for its cut's stateful stage: per-unit partials, or the cut staged (unit-cut.ts). */
  let unitState: UnitState | undefined;
  /** The partials' stage, wrapped (unit-partials.ts): what it staged and reused, for the report. */
  let partialsOf: (() => PartialsWork) | undefined;
  /**
   * A fresh resumable run (no unit carried from an earlier attempt) runs its tail live, in the
   * run's one scheduler, fed as a run without units feeds it, while the cut's output is still
   * staged per unit for a later --resume: the tail's sinks are written during the run (to their
   * temporaries, committed with the others). Only a run that carries units replays the staged
   * cut through the tail at the commit, since the units it does not read again are on disk only.
   */
  let live = false;
  /** The cut whose tail runs at the job commit over the staged units (none: no cut, or a live tail). */
  const replayedCut = () => (live ? undefined : cut);
  let samples: SampleRecorder | undefined;
  let startupMs = 0;
  /** Every executor there is, in plan order once all exist (what a failure stops: registered below). */
  const executors: StageExecutor[] = [];
  /** Rows taken out by `onError` (source and stages), their budget, and the dead-letter output's writes. */
  let rejects = new Rejects(plan.maxErrors);
  /** A resumable run's units (plan.units): staged, recorded, and replayed into the sinks at the commit; or a cluster run's, at its commit job (opts.commitUnits). */
  let units: Units | undefined;
  /** The same, a resumable run's (not a cluster's commit job's). */
  let unitRun: UnitRun | undefined;
  /** An incremental run's choice of input files and its state (source.incremental). */
  let incr: IncrementalRun | undefined;
  try {
    // Resources are opened whole, then registered, then the teardown is asked (racing an open
    // would lose what it opened: a sink's lock, a source thread); the slow part, the stages'
    // start, is raced. A resource registered after the run failed is torn down at once.
    // All or none: every target locked before anything is written to any (io/sinks openSinks).
    const targets = plan.sinks.map((s) => path.resolve(s.config.path));
    // A resumable run stages the dead-letter output's rows per unit like any sink's (io/units: the loose stream).
    const unitTargets = [...targets, ...(plan.deadLetter ? [path.resolve(plan.deadLetter.path)] : [])];
    if (plan.units && !plan.ordered) throw new ConfigError([{ path: 'resumable', message: 'a resumable run needs ordered output (ordered: true, the default): a unit is done when a batch of the next input file reaches every sink' }]);
    // The dead-letter output is one more sink, after the plan's: locked, written and committed with them.
    const deadLetter = plan.deadLetter ? [{ ...plan.deadLetter, partitionBy: undefined }] : [];
    const unit = opts.stageUnit;
    const clusterCommit = opts.commitUnits;
    if ((unit || clusterCommit) && (plan.units || !plan.ordered)) throw new ConfigError([{ path: 'cluster', message: 'a unit of a cluster run is staged like a resumable run\'s: it needs ordered output, and not resumable: true (the cluster cuts the run into units itself)' }]);
    // An incremental run adds a part to each output (a directory): named by its own part id, appended (or replaced: --full).
    const incremental = plan.source.incremental === true || plan.source.incremental === 'per-run';
    if (opts.full && !incremental) throw new ConfigError([{ path: 'source.incremental', message: '--full reads every input again in an incremental run, and this pipeline is not incremental (every run of it reads everything): drop --full, or set source.incremental: true' }], plan.configFile);
    if (incremental && (unit || clusterCommit)) throw new ConfigError([{ path: 'source.incremental', message: 'a cluster run cannot be incremental: run this pipeline without --cluster' }]);
    if (incremental) refuseStateful(plan, await statefulStages(plan));
    const part = incremental ? IncrementalRun.partId() : undefined;
    const planned = [...plan.sinks.map((s) => s.config), ...deadLetter];
    const sinkConfigs = incremental ? incrementalSinkConfigs(planned, opts.full === true) : planned;
    // A unit of a cluster run opens no sink: its batches are staged, and the commit job writes the sinks.
    const sinks = unit ? [] : await openSinks(sinkConfigs, {
      log,
      pipeline: plan.name,
      parts: [...plan.sinks.map((s) => s.from >= 0 && plan.stages[s.from].encode !== undefined), ...deadLetter.map(() => false)],
      ...(plan.units && { runId: unitRunId(unitTargets) }),
      ...(clusterCommit && { runId: clusterCommit.runId }),
      ...(part !== undefined && { runId: part, directories: sinkConfigs.map(() => true) }),
    });
    // In reverse: a folder the first made may hold the later ones' locks. After publish an abort only releases the lock.
    teardown.add('the sinks (temporaries and locks)', { abort: () => sequentially([...sinks].reverse(), (sink) => sink.abort()) });
    teardown.throwIfFailed();
    // With every target locked and recovered: the state read is the one committed with the outputs as they are.
    const resuming = part !== undefined && plan.units && opts.units === 'resume' ? stagedInputs(unitTargets) : undefined;
    const chosen = part !== undefined ? await IncrementalRun.open(plan, unitTargets, part, opts.full === true, log, resuming) : undefined;
    incr = chosen;
    if (chosen && chosen.selection.read.length === 0) {
      // Nothing new: the sinks' temporaries go, nothing is published, and the run succeeded.
      await sequentially([...sinks].reverse(), (sink) => sink.abort());
      log.info({ pipeline: plan.name, skipped: chosen.selection.skipped.length }, 'incremental run: nothing new to read; nothing was written');
      const report = buildReport(plan, startedAt, t0, performance.now() - t0, undefined, undefined, undefined, undefined, encoders(), rejects);
      report.incremental = chosen.report(false);
      return report;
    }
    if (plan.units || unit || clusterCommit) {
      cut = cutAtState(plan, await statefulStages(plan));
      if (cut && cut.at < 0 && (plan.parseIn || plan.direct)) {
        throw new ConfigError([{ path: plan.units ? 'resumable' : 'cluster', message: `stage "${plan.stages[cut.tail[0]].name}" has flush() and parses the source's CSV in its own copies: a ${plan.units ? 'resumable' : 'cluster'} run cannot stage its input per unit; give it a stage before it${plan.units ? ', or drop resumable' : ''}` }]);
      }
      // Only a resumable run: a cluster run's units are jobs of their own, and its commit job replays the cut.
      if (cut && plan.units) unitState = unitStateOf(plan, cut, await combiningStages(plan));
    }
    /** A resumable run with no column types yet: its source tells them as it fixes them, and the manifest keeps them. */
    let onFixedTypes: ((types: FixedSourceTypes) => void) | undefined;
    if (clusterCommit) units = new StagedUnits(clusterCommit.runId, clusterCommit.units, plan.sinks.length, plan.deadLetter !== undefined);
    else if (plan.units) {
      const opened = await openUnits(plan, unitTargets, opts, log, cut ? 1 : 0, plan.deadLetter ? plan.sinks.length : undefined, cut?.tailSinks ?? [], chosen && { files: chosen.selection.read, schema: chosen.schema, hashes: chosen.selection.seen });
      units = opened;
      unitRun = opened;
      onFixedTypes = recordTypes(opened, plan.source.format);
      // Per-unit partials: the tail runs live in a resumed run too (the units not read again give their staged partials to the combine).
      live = cut !== undefined && (opened.done.size === 0 || unitState?.way === 'partials');
      // The units recorded stay staged for --resume; the one being written is dropped.
      teardown.add('the unit being staged', { abort: () => opened.abort() });
    } else if (!unit) refuseLeftUnits(unitTargets);
    // A unit of a cluster run stages every sink's batches (and the cut's, and its rejects) in its attempt directories.
    const stagers = unit ? new ClusterUnitStaging(unit, cut !== undefined, plan.deadLetter !== undefined, teardown, { names: plan.sinks.map((s) => s.name), targets, deadLetter: unitTargets[targets.length] }) : undefined;
    const deadSink = plan.deadLetter ? sinks[plan.sinks.length] : undefined;
    const carried = units?.carried();
    const unitRejects = carried && units && new Rejects(plan.maxErrors, undefined, { carried: carried.rejected, seqOffset: carried.sourceBatches, counts: carried.rejectCounts, first: carried.firstRejects, keyOf: units.keyOf.bind(units) });
    const readFrom = countReads(units, unitRejects);
    // A cluster unit holds its rejects (all under one key: it reads one unit) until it is read, then stages them for the commit job.
    rejects = unitRejects ?? (unit ? new Rejects(plan.maxErrors, undefined, { carried: 0, seqOffset: 0, keyOf: () => UNIT_REJECTS }) : new Rejects(plan.maxErrors, deadSink));
    /** A cluster unit: the items its source read (its rejects' batch numbers count from its own first). */
    let unitItems = 0;
    const sourceRejects = rejects;
    const action = plan.source.onError;
    // Rows the source cannot read, with `source.onError`: counted (the budget may end the run here) and dead-lettered.
    const onBadRow =
      action === 'skip' || action === 'dead-letter'
        ? (bad: BadRow) => {
            if (units && bad.file !== undefined) readFrom(bad.file).rows++;
            sourceRejects.add(action, [{ origin: 'source', ...bad }]);
          }
        : undefined;
    // An incremental run's column types are fixed once, by its first run, and kept in its state: every part has the same.
    const textSource = plan.source.format === 'csv' || plan.source.format === 'ndjson';
    const incrTypes = chosen && !units && textSource ? (chosen.schema ?? { ...(await fixSourceTypes(plan.source, chosen.selection.read[0])) }) : undefined;
    const stageUnitSpec: UnitSpec | undefined = unit && { file: unit.file, ...(unit.groups && { groups: unit.groups, firstRow: unit.firstRow }) };
    const readUnits = units?.todoUnits ?? (stageUnitSpec && [stageUnitSpec]);
    const src = await openPlannedSource(
      plan,
      log,
      onBadRow,
      units ? { only: units.todo, units: units.todoUnits, fixedTypes: units.schema as FixedSourceTypes | undefined } : unit ? { only: [unit.file], units: [stageUnitSpec!], fixedTypes: unit.fixedTypes } : chosen && { only: chosen.selection.read, fixedTypes: incrTypes as FixedSourceTypes | undefined },
      onFixedTypes,
    );
    source = src;
    teardown.add('the source', { abort: () => src.close() });
    teardown.throwIfFailed();
    teardown.add('the stages\' copies', { abort: () => Promise.all(executors.map((e) => e.abort())) });
    // Copies started early are adopted here, once they are registered: the failure path stops them too.
    const inTail = new Set(cut?.tail);
    // A cluster unit runs the head only: the tail's copies are made (the report lists them) but never started.
    const idle = (i: number) => unit !== undefined && inTail.has(i);
    const ready = plan.stages.map((stage, i) => {
      const adopted = early?.adopt(plan, stage);
      // The tail runs once over every unit at the commit: its row groups are those of a run without units.
      const own = inTail.has(i) && stage.encode ? { ...stage, encode: { ...stage.encode, units: false } } : stage;
      const executor = adopted?.executor ?? executorFor(own, { log });
      executors.push(executor);
      return adopted?.ready;
    });
    const startOf = (e: StageExecutor, start: Promise<void>) => {
      starting.add(e);
      return start.finally(() => starting.delete(e));
    };
    await teardown.race(Promise.all(executors.map((e, i) => (idle(i) ? undefined : startOf(e, ready[i] ?? e.start())))));
    // What projection pushdown left out, per stage: asking for it, or listing the columns, fails naming it (batch/left-out-guard.ts).
    if (plan.projection) leftOutPerStage(plan).forEach((perMember, i) => executors[i].leaveOut?.(perMember));
    startupMs = performance.now() - t0;
    log.info({ pipeline: plan.name, files: src.files.length, stages: plan.stages.length }, 'run started');

    const allChannels = channelsOf(plan);
    const n = plan.stages.length;
    const staged = units;
    const planSinks = sinks.slice(0, plan.sinks.length);
    // Without a cut (no stateful stage, or no units) the head is the whole graph; a live tail runs with it.
    const headStages = replayedCut()?.head ?? plan.stages.map((_, i) => i);
    const headSinks = replayedCut()?.headSinks ?? plan.sinks.map((_, k) => k);
    /** The sinks a live tail writes during the run (not staged per unit). */
    const liveSinks = new Set(live ? cut!.tailSinks : []);
    const cutStream = unitTargets.length; // the cut's staged stream in the UnitRun
    // The cut's input staged per unit (not when its stage stages its partials instead).
    const stagesCut = cut !== undefined && !clusterCommit && unitState?.way !== 'partials';
    const channels = [...headStages.map((i) => allChannels[i]), ...headSinks.map((k) => allChannels[n + k]), ...(cut && stagesCut ? [new Channel(`${placeName(plan, cut.at)}→staging`, placeBounds(plan, cut.at), plan.ordered)] : [])];
    const topology = localTopology(headStages, plan.stages.map((s) => s.input), [...headSinks.map((k) => plan.sinks[k].from), ...(cut && stagesCut ? [cut.at] : [])]);
    // A unit of a cluster run stages into its attempt directories; a resumable run into its units; else the sinks.
    const schedulerSinks = headSinks.map((k) => (stagers ? stagers.sink(k) : staged && !liveSinks.has(k) ? stagingAdapter(staged, k) : sinkAdapter(planSinks[k])));
    if (cut && staged && stagesCut) schedulerSinks.push(stagingAdapter(staged, cutStream));
    if (unitState?.way === 'partials' && unitRun) {
      const s = unitState.stage;
      const wrapped = perUnitPartials(executors[s], plan.stages[s], unitRun, cutStream, log);
      executors[s] = wrapped;
      partialsOf = () => wrapped.partials();
    }
    else if (cut && stagers) schedulerSinks.push(stagers.cutSink()!);
    const running = new Scheduler(
      sourceAdapter(
        src,
        staged
          ? (key, rows, seq) => {
              staged.noteItem(key, seq);
              const read = readFrom(key);
              read.batches++;
              read.rows += rows;
            }
          : unit && (() => void unitItems++),
      ),
      headStages.map((i) => executors[i]),
      schedulerSinks,
      channels,
      undefined,
      topology,
    );
    // A resumable run's Parquet encoders end row groups where a unit ends, a range of a file's row groups included.
    // (Not a live tail's: its row groups are a run's without units, as at the commit.)
    if (staged) for (const i of headStages) if (!inTail.has(i) && executors[i] instanceof ParquetEncodeExecutor) executors[i].unitOf = (file, seq) => staged.keyOf(file, seq);
    const checks = plan.direct ? [] : await Promise.all(plan.sinks.map(async (s, k) => outputCheck(s, await appendSchemaCheck(sinkConfigs[k], incremental))));
    running.outputChecks = localChecks(checks, headSinks, headStages);
    // Every run: a stage may reject rows itself (ctx.reject) whatever its onError (with 'fail', its
    // first rejected rows end the run, named by their row numbers).
    const whole = await Promise.all(plan.stages.map((st) => (st.onError && st.onError !== 'fail' && st.modulePath ? keepsState(st.modulePath) : false)));
    const policies: (RowErrorPolicy | undefined)[] = plan.stages.map((st, i) => (st.onError && st.onError !== 'fail' ? { action: st.onError, whole: whole[i] } : undefined));
    // Row numbers count the file's rows as the source passes them on: with rows taken out there, they would not be the file's.
    // A live tail's rejects belong to no unit (a resumed run rejects them again at its commit): held apart (Rejects.liveTail).
    const tailRejects = live ? rejects.liveTail() : undefined;
    // The partials' stage reads the units' rows as a head stage does: its rejects belong to their units.
    const partialsStage = unitState?.way === 'partials' ? unitState.stage : -1;
    const runPolicies = headStages.map((i) => (tailRejects && inTail.has(i) && i !== partialsStage && policies[i] ? { ...policies[i]!, into: tailRejects } : policies[i]));
    running.rowErrors = { policies: runPolicies, rejects, rowNumbers: (plan.source.onError ?? 'fail') === 'fail', rowsBefore: rowsBefore(readUnits) };
    scheduler = running;
    started(running);
    teardown.add('the scheduler (items in its channels)', { abort: (err) => running.fail(err) });
    const totalBytes = inputSize(src.files);
    const view: ProgressSource = {
      meters: running.meters,
      channels: running.channels,
      sourceMeter: running.sourceMeter,
      sinkMeter: running.sinkMeter,
      get sourceFinished() {
        return running.sourceFinished;
      },
      inputBytes: () => ({ bytesRead: src.stats().bytesRead, totalBytes }),
      encoder,
    };
    const recorder = new SampleRecorder(view, t0, channels.map((c) => c.name));
    samples = recorder;
    recorder.start();
    teardown.add('the timeline samples', { abort: () => recorder.stop() });
    const progress = opts.onProgress && new ProgressTracker(view, t0, opts.onProgress, opts.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
    if (progress) teardown.add('the progress display', { abort: () => progress.stop(false) });
    await teardown.race(running.run());
    recorder.stop();
    progress?.stop(true);
    await teardown.race(Promise.all([...headStages.map((i) => executors[i].close()), src.close()]));
    // What inline stage code set off before the end must surface before anything is committed:
    // the rest of a run can finish in one turn of the event loop (batches already read, a
    // synchronous sink), so a timer a stage set for 0 ms, or a rejection nobody handled, would
    // otherwise come after the commit, or never (the CLI exits). One timer turn lets every timer
    // already due fire, and rejections be noticed, while the guard still listens.
    await teardown.race(timersDue());
    if (stagers) {
      // A staged unit: durable in its attempt directories; the commit job checks and publishes it with the others.
      const staged = await stagers.finish(rejects, teardown, unitItems, running.sourceMeter.rows + rejects.fromSource);
      return { ...buildReport(plan, startedAt, t0, startupMs, scheduler, source, undefined, samples, encoders(), rejects), ...staged };
    }
    headSinks.forEach((k) => {
      // A resumed run's earlier units gave the columns (and were checked when they were written).
      if (checks[k] && !checks[k].schema.seen && !(units && units.done.size > 0)) throw noColumns(plan, plan.sinks[k], running.meters);
    });
    // The budget as a share of the rows read is known only now; the dead-letter rows are all written before the commit.
    // A resumed run's share counts the rows the earlier units read, as their rejects count.
    rejects.checkShare(running.sourceMeter.rows + rejects.fromSource + (carried?.sourceRows ?? 0));
    await teardown.race(rejects.drain());
    if (units) {
      // The job commit: every unit, in input order, into the sinks, which write and commit it as an uninterrupted run would.
      await teardown.race(units.finishUnits());
      if (rejects.heldRows > 0) throw new SinkError(`${rejects.heldRows} rejected rows belong to no unit of this run; nothing was committed (a bug in sluice: please report it with the run's log)`);
      // The staged units' rejects follow, in input order; rows rejected from here on (by the stages run again below) follow them.
      const replayed = await replayIntoSinks(units, headSinks, liveSinks, planSinks, deadSink, plan.sinks.length);
      rejects.redirect(deadSink, replayed);
      if (cut && replayedCut()) {
        // The stateful stages and what follows them, over every unit's output at the cut, in input order (unit-cut.ts).
        const tailStages = cut.tail;
        const tail = new Scheduler(
          replaySource(units, cutStream),
          tailStages.map((i) => executors[i]),
          cut.tailSinks.map((k) => sinkAdapter(planSinks[k])),
          [...tailStages.map((i) => allChannels[i]), ...cut.tailSinks.map((k) => allChannels[n + k])],
          undefined,
          localTopology(tailStages, plan.stages.map((s) => s.input), cut.tailSinks.map((k) => plan.sinks[k].from), cut.at),
        );
        tail.outputChecks = localChecks(checks, cut.tailSinks, tailStages);
        // Row numbers: the cut's rows are no longer the file's one to one.
        tail.rowErrors = { policies: tailStages.map((i) => policies[i]), rejects, rowNumbers: false };
        tailScheduler = tail;
        started(tail);
        teardown.add('the stages run again over the staged units', { abort: (err) => tail.fail(err) });
        await teardown.race(tail.run());
        await teardown.race(Promise.all(tailStages.map((i) => executors[i].close())));
        for (const k of cut.tailSinks) if (checks[k] && !checks[k].schema.seen) throw noColumns(plan, plan.sinks[k], tail.meters);
      }
      await teardown.race(rejects.drain());
    }
    const staging = units;
    const tailSinkAt = new Map((replayedCut()?.tailSinks ?? []).map((k, j) => [k, j]));
    const expected = (k: number) => {
      if (k >= plan.sinks.length) return (staging?.rows(k) ?? 0) + rejects.written;
      const j = tailSinkAt.get(k);
      if (j !== undefined) return tailScheduler!.sinkMeters[j].rows;
      return staging && !liveSinks.has(k) ? staging.rows(k) : running.sinkMeters[k].rows;
    };
    // Not raced, and held: once the sinks commit, they finish (renames and fsyncs), signal or
    // not; a stage error that comes meanwhile still stops them before the first rename, and
    // the teardown waits for the commit to settle.
    const nameOf = (k: number) => (k < plan.sinks.length ? plan.sinks[k].name : 'deadLetter');
    const pathOf = (k: number) => (k < plan.sinks.length ? plan.sinks[k].config.path : plan.deadLetter?.path);
    // The incremental state goes into the first output's new tree: published with it (and the others, by the journal), or not at all.
    if (chosen) await teardown.race(chosen.writeState(sinks[0], units ? units.schema : incrTypes));
    const results = await teardown.hold(
      commitTogether(sinks, (written) => {
        guard.throwIfFailedOtherThanAbort();
        // Counted at each sink: a writer that dropped rows without a word (apache-arrow's closed
        // on a schema it saw as another, once) fails the run instead of publishing fewer rows.
        written.forEach(({ rows }, k) => {
          const handed = expected(k);
          if (rows !== handed) {
            throw new SinkError(`the sink wrote ${rows} rows to ${pathOf(k)} but was given ${handed}; nothing was committed (a bug in sluice: please report it with the run's log)`);
          }
        });
        // Told before the first rename, so a death right after it is known as committed; taken
        // back by the teardown (registered after the sinks: before their temporaries go).
        opts.onCommitting?.(written.map((w, k) => ({ ...w, sink: nameOf(k) })));
        teardown.add('the commit announced', { abort: () => opts.onCommitFailed?.() });
      }),
    );
    opts.onCommitted?.(results.flatMap((r) => r.files));
    await units?.committed();
    const report = buildReport(plan, startedAt, t0, startupMs, viewOf(plan, replayedCut(), scheduler, tailScheduler), source, results, samples, encoders(), rejects);
    if (units) report.units = unitsReport(units, cut, live, tailScheduler, partialsOf?.());
    if (chosen) report.incremental = chosen.report(true);
    if (plan.direct) report.direct = { rowsPerChunk: plan.direct.rowsPerChunk };
    log.info({ pipeline: plan.name, rows: report.sink.rows, ms: report.durationMs }, 'run finished');
    return report;
  } catch (err) {
    await teardown.fail(err);
    const report = buildReport(plan, startedAt, t0, startupMs, viewOf(plan, replayedCut(), scheduler, tailScheduler), source, undefined, samples, encoders(), rejects);
    const failure = withProjectionNote(teardown.error, plan.projection);
    if (units) report.units = unitsReport(units, cut, live, tailScheduler, partialsOf?.());
    if (incr) report.incremental = incr.report(false);
    attachFailure(failure, report);
    throw failure;
  }
}

/** `each` on every item, one after the other, in order. */
async function sequentially<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
  for (const item of items) await each(item);
}

/**
 * A stage that failed while the source left columns out (projection pushdown) may have read
 * one of them without listing it in its `reads`: its batch had no such column. Say which
 * were left out and why, beside the stage's own error.
 */
function withProjectionNote(err: unknown, projection: Plan['projection']): unknown {
  // The guard's own failures say so themselves (batch/left-out-guard.ts); this covers a stage that declared passesOnUnlisted and read one anyway.
  if (projection && err instanceof StageError && err.phase !== 'load' && err.phase !== 'setup' && !err.message.includes(LEFT_OUT_MESSAGE) && !err.message.includes(ENUMERATED_MESSAGE)) {
    err.message += `\n  note: the source did not read ${projection.pruned.join(', ')}: no stage lists them in its reads() and the sink does not get them; a stage that reads one must list it`;
  }
  return err;
}

/**
 * The plan's source: batches (on a thread of its own when the plan says so), or checked chunks
 * of CSV text for the stage after it to parse: the encoding stage of a plain CSV → Parquet
 * conversion, or a thread stage that parses in its copies (`plan.parseIn`).
 */
async function openPlannedSource(plan: Plan, log: NonNullable<RunOptions['log']>, onBadRow?: (bad: BadRow) => void, units?: { only: string[]; units?: UnitSpec[]; fixedTypes?: FixedSourceTypes }, onFixedTypes?: (types: FixedSourceTypes) => void): Promise<Source> {
  const rowsPerChunk = plan.direct?.rowsPerChunk ?? plan.parseIn?.rowsPerChunk;
  const cfg = units ? { ...plan.source, ...units } : plan.source;
  if (rowsPerChunk !== undefined) {
    // A plain conversion joins chunks into row groups across files: their edges must line up
    // (not in a resumable run, whose row groups end with each file).
    const chunks = openCsvChunks(cfg, rowsPerChunk, { log, ownChunks: true, alignAcrossFiles: plan.direct !== undefined && !plan.units, ...(onFixedTypes && { onFixedTypes }) });
    return {
      files: chunks.files,
      stats: () => chunks.stats(),
      close: () => chunks.close(),
      async *batches() {
        for await (const chunk of chunks.chunks()) yield csvChunkItem(chunk);
      },
    };
  }
  if (plan.source.thread) return openThreadSource(cfg, { log, readAhead: plan.source.readAhead, ...(plan.source.splitOut && { splitOut: plan.source.splitOut }), ...(onBadRow && { onBadRow }), ...(onFixedTypes && { onFixedTypes }) });
  // A vectorised chain on this thread takes a Parquet source's frames as they are (plan/chain-batch.ts).
  return openSource(cfg, { log, ...(onBadRow && { onBadRow }), ...(plan.source.batchRowsFor && { frames: true }), ...(onFixedTypes && { onFixedTypes }) });
}

/**
 * One channel per reader: `channels[i]` feeds stage i, `channels[stages + k]` sink k, each
 * bounded as its producer's output says (the source's, or the stage's `channel`).
 */
function channelsOf(plan: Plan): Channel[] {
  const sinkName = (s: PlannedSink) => (plan.sinks.length === 1 ? 'sink' : `sink ${s.name}`);
  return [
    ...plan.stages.map((s) => new Channel(`${placeName(plan, s.input)}→${s.name}`, placeBounds(plan, s.input), plan.ordered)),
    ...plan.sinks.map((s) => new Channel(`${placeName(plan, s.from)}→${sinkName(s)}`, placeBounds(plan, s.from), plan.ordered)),
  ];
}

/** A place of the graph (a stage's index, -1 the source): its name, and the bounds of the channels it writes. */
function placeName(plan: Plan, p: number): string {
  return p < 0 ? 'source' : plan.stages[p].name;
}

function placeBounds(plan: Plan, p: number): Plan['sourceOutput'] {
  return p < 0 ? plan.sourceOutput : plan.stages[p].output;
}

/** The output checks of `sinks` (plan indices) for a scheduler that runs `stages` (plan indices), numbered as it numbers them. */
function localChecks(checks: (OutputCheck & { schema: OutputSchema })[], sinks: readonly number[], stages: readonly number[]): OutputCheck[] {
  return sinks.flatMap((k) => {
    const check = checks[k];
    if (!check) return []; // a plain conversion has none
    const after = check.after < 0 ? -1 : stages.indexOf(check.after);
    if (check.after >= 0 && after < 0) throw new Error(`internal: sink ${k} is checked after plan stage ${check.after}, which this part of the graph does not run`);
    return [{ after, check: (item: OwnedBatch, place: string) => check.check(item, place) }];
  });
}

/**
 * Whether each stage keeps state across batches (it, or a member fused into it, has flush):
 * a resumable run runs those, and what follows them, again at the commit (unit-cut.ts).
 * sluice's own stages (partitioning, Parquet encoding) end their state at unit edges.
 */
function statefulStages(plan: Plan): Promise<boolean[]> {
  return Promise.all(
    plan.stages.map(async (stage) => {
      for (const m of [stage, ...(stage.fused ?? [])]) if (m.modulePath && (await keepsState(m.modulePath))) return true;
      return false;
    }),
  );
}

/** Per plan stage: whether its module has `combine` (a fused group: never, unit-cut.ts refuses it anyway). */
function combiningStages(plan: Plan): Promise<boolean[]> {
  return Promise.all(plan.stages.map(async (stage) => !stage.fused && !!stage.modulePath && (await mergesPartials(stage.modulePath))));
}

/** What the report reads of the run's scheduling: one scheduler's, or a resumable run's head and tail (unit-cut.ts) in plan order. */
type RunView = Pick<Scheduler, 'sourceMeter' | 'sinkMeters' | 'meters' | 'channels' | 'executors'>;

function viewOf(plan: Plan, cut: UnitCut | undefined, head: Scheduler | undefined, tail: Scheduler | undefined): RunView | undefined {
  if (!cut || !head) return head;
  const none = { rows: 0, batches: 0, bytes: 0, busyMs: 0 };
  const at = (list: readonly number[], i: number) => list.indexOf(i);
  const meters = plan.stages.flatMap((_, i) => {
    const m = cut.head.includes(i) ? head.meters[at(cut.head, i)] : tail?.meters[at(cut.tail, i)];
    return m ? [m] : [];
  });
  const sinkMeters = plan.sinks.map((_, k) => (cut.headSinks.includes(k) ? head.sinkMeters[at(cut.headSinks, k)] : (tail?.sinkMeters[at(cut.tailSinks, k)] ?? none)));
  return { sourceMeter: head.sourceMeter, sinkMeters, meters, channels: [...head.channels, ...(tail?.channels ?? [])], executors: [...head.executors, ...(tail?.executors ?? [])] };
}

/**
 * A sink's one schema, checked where batches leave the config's stage it writes (the stages
 * sluice adds for partitions and Parquet encoding come after it), or the source.
 */
function outputCheck(sink: PlannedSink, existing: Awaited<ReturnType<typeof appendSchemaCheck>>): OutputCheck & { schema: OutputSchema } {
  const schema = new OutputSchema(sink.config.format, existing);
  return {
    after: sink.writes,
    schema,
    check(item, place) {
      for (const batch of item.batches) schema.check(batch, place);
    },
  };
}

/**
 * Not one batch, not even one without rows, reached the sink: its output's columns are
 * unknown, and a file without them is no valid file (a 0-byte Arrow or CSV file, a Parquet
 * file without columns: no reader reads them). Guessing them (the input's?) could write the
 * wrong ones, so the run fails and says how to give them.
 */
function noColumns(plan: Plan, sink: PlannedSink, meters: readonly StageMeter[] = []): SinkError {
  const name = sink.writes < 0 ? undefined : plan.stages[sink.writes].name;
  const meter = meters.find((m) => m.executor.stage === name);
  if (meter && meter.rowsIn > 0 && meter.rejected === meter.rowsIn) {
    // Not a filter that forgot its columns: its onError took out every row (most likely a bug in the stage).
    return new SinkError(
      `nothing was written to ${sink.config.path}: stage "${name}" rejected every one of the ${meter.rowsIn} rows it was given (its onError), so no batch with its output columns came out and an empty ${sink.config.format} output cannot be written; ` +
        'nothing is committed, the rejected rows neither (they are committed with the output or not at all). A stage that refuses every row is most likely broken: run it on a few rows (`sluice test`, `sluice/testing`) to see why, or set maxErrors so that such a run stops early',
    );
  }
  const from =
    sink.writes < 0
      ? `the source (${plan.source.path}) yielded no batch`
      : `stage "${name}" passed on no batch (it returned nothing for every batch it was given, or was given none)`;
  return new SinkError(
    `nothing was written to ${sink.config.path}: ${from}, so the output's columns are unknown and an empty ${sink.config.format} output cannot be written with them; ` +
      'a stage that filters out every row should return an empty batch with its output columns instead of nothing (e.g. `batch.slice(0, 0)`, or `ctx.table` with empty arrays)',
  );
}

/**
 * `onItem`: told the unit key of each item read and its number in the run (a resumable run
 * counts them per unit). An item of a range of a file's row groups carries the range's key as
 * its file (io/sources: `units`); from here on it carries the file, as every other item.
 */
function sourceAdapter(source: Source, onItem?: (key: string, rows: number, seq: number) => void): SchedulerSource {
  const batches = source.batches();
  let seq = 0;
  return {
    async next() {
      const r = await batches.next();
      if (r.done) return r;
      const n = seq++;
      const key = r.value.sourceFile;
      if (key === undefined) return r;
      onItem?.(key, r.value.rows, n);
      const file = fileOfUnitKey(key);
      return file === key ? r : { done: false, value: r.value.moveTo({ sourceFile: file }) };
    },
    async close() {
      await batches.return(undefined);
      await source.close();
    },
  };
}

function sinkAdapter(sink: Sink): SchedulerSink {
  return {
    write(item) {
      return item.consume(async () => {
        const moved = STRICT_SLABS ? movedOn(item.batches) : undefined;
        if (moved) throw new SinkError(`batch #${item.seq} lies in memory that is not its own any more: ${moved} before the sink wrote it (an ownership bug in sluice; SLUICE_STRICT_SLABS)`);
        for (const batch of item.batches) await sink.write(batch, { seq: item.seq, sourceFile: item.sourceFile, backing: item.backing });
      });
    },
  };
}

function buildReport(
  plan: Plan,
  startedAt: Date,
  t0: number,
  startupMs: number,
  scheduler: RunView | undefined,
  source: Source | undefined,
  /** What each sink committed; undefined when the run failed (nothing was). */
  results: SinkResult[] | undefined,
  samples: SampleRecorder | undefined,
  encoders: (EncoderWork | undefined)[],
  rejects: Rejects,
): RunReport {
  const src = scheduler?.sourceMeter;
  const sinks: SinkReport[] = plan.sinks.map((s, k) => {
    const handed = scheduler?.sinkMeters[k];
    const encoder = encoders[k];
    return {
      name: s.name,
      // The rows the sink wrote, counted by its writers once committed; what it was handed otherwise.
      rows: results?.[k].rows ?? handed?.rows ?? 0,
      batches: handed?.batches ?? 0,
      bytes: handed?.bytes ?? 0,
      path: s.config.path,
      files: results?.[k].files ?? [],
      busyMs: round(handed?.busyMs ?? 0),
      ...(encoder && { encoder }),
    };
  });
  return {
    pipeline: plan.name,
    ok: true,
    params: { ...plan.params.values },
    startedAt: startedAt.toISOString(),
    durationMs: round(performance.now() - t0),
    startupMs: round(startupMs),
    source: {
      rows: src?.rows ?? 0,
      rowsRead: (src?.rows ?? 0) + rejects.fromSource,
      batches: src?.batches ?? 0,
      bytes: src?.bytes ?? 0,
      files: source?.files.length ?? 0,
      busyMs: round(src?.busyMs ?? 0),
      blockedMs: round(src?.blockedMs ?? 0),
      ...(plan.projection && { leftOut: plan.projection.pruned }),
    },
    stages: scheduler?.meters.map((m) => m.snapshot()) ?? [],
    sink: sinks.length === 1 ? sinks[0] : allTogether(sinks),
    sinks,
    channels:
      scheduler?.channels.map((c) => ({
        name: c.name,
        capacity: c.bounds.capacity,
        capacityBytes: c.bounds.capacityBytes,
        peakDepth: c.peakDepth,
        peakBytes: c.peakBytes,
        batches: c.passed.batches,
        rows: c.passed.rows,
        bytes: c.passed.bytes,
        creditWaitMs: round(c.creditWaitMs),
      })) ?? [],
    ...(hasOnError(plan) && {
      rejected: {
        rows: rejects.total,
        counts: rejects.report(),
        ...(plan.deadLetter && {
          deadLetter: { name: 'deadLetter', rows: results?.[plan.sinks.length]?.rows ?? rejects.written, batches: 0, bytes: 0, path: plan.deadLetter.path, files: results?.[plan.sinks.length]?.files ?? [], busyMs: 0 },
        }),
      },
    }),
    ...peakRss(scheduler),
    ...(scheduler && samples ? { timeline: { stages: scheduler.meters.map((m) => m.timelineFrom(t0)), samples: samples.export() } } : {}),
  };
}

function hasOnError(plan: Plan): boolean {
  return (plan.source.onError ?? 'fail') !== 'fail' || plan.stages.some((s) => s.onError) || plan.deadLetter !== undefined;
}

/** Several sinks as the one `sink` a report reader of one-sink runs knows: their sums, and the folder that holds them all. */
function allTogether(sinks: SinkReport[]): SinkReport {
  const sum = (f: (s: SinkReport) => number) => sinks.reduce((n, s) => n + f(s), 0);
  let dir = path.dirname(sinks[0].path);
  while (!sinks.every((s) => s.path.startsWith(dir + path.sep)) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return { name: sinks.map((s) => s.name).join('+'), rows: sum((s) => s.rows), batches: sum((s) => s.batches), bytes: sum((s) => s.bytes), path: dir, files: sinks.flatMap((s) => s.files), busyMs: round(sum((s) => s.busyMs)) };
}

/** maxRSS covers the main thread and every worker thread; child processes report their own. */
function peakRss(scheduler: RunView | undefined): Pick<RunReport, 'peakRssBytes' | 'peakRss'> {
  const mainBytes = process.resourceUsage().maxRSS * 1024;
  const children = (scheduler?.executors ?? []).flatMap((e) => (e.childPeakRss?.() ?? []).map((bytes, copy) => ({ stage: e.stage, copy, bytes })));
  return { peakRssBytes: mainBytes + children.reduce((n, c) => n + c.bytes, 0), peakRss: { mainBytes, children } };
}

/** Resolves after every timer that was due by now has fired (timers fire in order of expiry). */
function timersDue(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
