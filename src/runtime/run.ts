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
import { fixSourceTypes, openCsvChunks, openSource, resolveInputs, type BadRow, type FixedSourceTypes, type Source } from '../io/sources';
import { UnitRun, fingerprintOf, refuseLeftUnits, unitRunId } from '../io/units/units';
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
import { round } from './metrics';
import { Scheduler, type OutputCheck, type SchedulerSink, type SchedulerSource } from './scheduler';
import { ProgressTracker, type ProgressSource } from './progress';
import { SampleRecorder } from './samples';
import { inputSize } from './input-size';
import { executorFor } from './executor-for';
import { attachFailure } from './report-attach';
import { Rejects } from './rejects';
import { keepsState } from '../executors/keeps-state';
import { RunGuard } from './guard';
import { Teardown } from './teardown';
import type { EarlyStart } from './early-start';
import type { EncoderWork, RunOptions, RunReport, SinkReport } from './types';

export { reportOf } from './report-attach';

/**
 * Run `plan`. `early`: copies started for this plan while its checks ran (early-start.ts); the
 * run adopts them, and stops them with everything else if it fails.
 *
 * Everything the run opens is registered in its teardown (teardown.ts) as it is opened; the
 * first error tears it all down there, in reverse order, and is what the run throws.
 */
export async function runPlan(plan: Plan, opts: RunOptions = {}, early?: EarlyStart): Promise<RunReport> {
  let scheduler: Scheduler | undefined;
  const teardown = new Teardown();
  const guard = new RunGuard(opts.signal, () => scheduler?.describePending() ?? 'start-up', teardown);
  // Whatever the run does not adopt (nothing, once it got that far).
  if (early) teardown.add('copies started early', { abort: () => early.discard(), release: () => early.discard() });
  const report = await guard.scope(() => runBatches(plan, opts, guard, teardown, (s) => (scheduler = s), early));
  for (const failure of await teardown.close()) (opts.log ?? createRootLogger()).warn({ err: failure }, 'after the commit: ' + failure.message);
  return report;
}

async function runBatches(plan: Plan, opts: RunOptions, guard: RunGuard, teardown: Teardown, started: (s: Scheduler) => void, early: EarlyStart | undefined): Promise<RunReport> {
  const log = opts.log ?? createRootLogger();
  const startedAt = new Date();
  const t0 = performance.now();
  // A Parquet sink's encoding is a stage of the run: what its threads did (per sink; all together for the live display).
  const encoderOf = (stage: StageExecutor | undefined): EncoderWork | undefined => {
    if (!(stage instanceof ParquetEncodeExecutor)) return undefined;
    const w = stage.work();
    return { threadsStarted: w.threadsStarted, busyMs: round(w.busyMs), slotWaitMs: round(w.slotWaitMs) };
  };
  const encoders = (): (EncoderWork | undefined)[] => plan.sinks.map((s) => (s.from >= 0 ? encoderOf(executors[s.from]) : undefined));
  const encoder = (): EncoderWork | undefined => {
    const all = encoders().filter((e): e is EncoderWork => e !== undefined);
    if (!all.length) return undefined;
    return { threadsStarted: all.reduce((n, e) => n + e.threadsStarted, 0), busyMs: round(all.reduce((n, e) => n + e.busyMs, 0)), slotWaitMs: round(all.reduce((n, e) => n + e.slotWaitMs, 0)) };
  };
  let source: Source | undefined;
  let scheduler: Scheduler | undefined;
  let samples: SampleRecorder | undefined;
  let startupMs = 0;
  /** Every executor there is, in plan order once all exist (what a failure stops: registered below). */
  const executors: StageExecutor[] = [];
  /** Rows taken out by `onError` (source and stages), their budget, and the dead-letter output's writes. */
  let rejects = new Rejects(plan.maxErrors);
  /** A resumable run's units (plan.units): staged, recorded, and replayed into the sinks at the commit. */
  let units: UnitRun | undefined;
  try {
    // Resources are opened whole, then registered, then the teardown is asked (racing an open
    // would lose what it opened: a sink's lock, a source thread); the slow part, the stages'
    // start, is raced. A resource registered after the run failed is torn down at once.
    // All or none: every target locked before anything is written to any (io/sinks openSinks).
    const targets = plan.sinks.map((s) => path.resolve(s.config.path));
    if (plan.units && !plan.ordered) throw new ConfigError([{ path: 'resumable', message: 'a resumable run needs ordered output (ordered: true, the default): a unit is done when a batch of the next input file reaches every sink' }]);
    // Rejected rows are written as they come, not staged per unit: a resumed run would lose the earlier units' rejects.
    if (plan.units && plan.deadLetter) throw new ConfigError([{ path: 'resumable', message: 'a resumable run cannot have a deadLetter output yet (its rows are not staged per unit, so a resumed run would lose the rejects of the units before): drop resumable, or use onError: "skip"' }]);
    // The dead-letter output is one more sink, after the plan's: locked, written and committed with them.
    const deadLetter = plan.deadLetter ? [{ ...plan.deadLetter, partitionBy: undefined }] : [];
    const sinks = await openSinks([...plan.sinks.map((s) => s.config), ...deadLetter], {
      log,
      pipeline: plan.name,
      parts: [...plan.sinks.map((s) => s.from >= 0 && plan.stages[s.from].encode !== undefined), ...deadLetter.map(() => false)],
      ...(plan.units && { runId: unitRunId(targets) }),
    });
    // In reverse: a folder the first made may hold the later ones' locks. After publish an abort only releases the lock.
    teardown.add('the sinks (temporaries and locks)', { abort: () => sequentially([...sinks].reverse(), (sink) => sink.abort()) });
    teardown.throwIfFailed();
    if (plan.units) {
      const opened = await openUnits(plan, targets, opts, log);
      units = opened;
      // The units recorded stay staged for --resume; the one being written is dropped.
      teardown.add('the unit being staged', { abort: () => opened.abort() });
    } else refuseLeftUnits(targets);
    const deadSink = plan.deadLetter ? sinks[plan.sinks.length] : undefined;
    rejects = new Rejects(plan.maxErrors, deadSink);
    const sourceRejects = rejects;
    const action = plan.source.onError;
    // Rows the source cannot read, with `source.onError`: counted (the budget may end the run here) and dead-lettered.
    const onBadRow = action === 'skip' || action === 'dead-letter' ? (bad: BadRow) => sourceRejects.add(action, [{ origin: 'source', ...bad }]) : undefined;
    const src = await openPlannedSource(plan, log, onBadRow, units && { only: units.todo, fixedTypes: units.schema as FixedSourceTypes | undefined });
    source = src;
    teardown.add('the source', { abort: () => src.close() });
    teardown.throwIfFailed();
    teardown.add('the stages\' copies', { abort: () => Promise.all(executors.map((e) => e.abort())) });
    // Copies started early are adopted here, once they are registered: the failure path stops them too.
    const ready = plan.stages.map((stage) => {
      const adopted = early?.adopt(plan, stage);
      const executor = adopted?.executor ?? executorFor(stage, { log });
      executors.push(executor);
      return adopted?.ready;
    });
    await teardown.race(Promise.all(executors.map((e, i) => ready[i] ?? e.start())));
    // What projection pushdown left out, per stage: asking for it, or listing the columns, fails naming it (batch/left-out-guard.ts).
    if (plan.projection) leftOutPerStage(plan).forEach((perMember, i) => executors[i].leaveOut?.(perMember));
    startupMs = performance.now() - t0;
    log.info({ pipeline: plan.name, files: src.files.length, stages: plan.stages.length }, 'run started');

    const channels = channelsOf(plan);
    const topology = { inputs: plan.stages.map((s) => s.input), sinkInputs: plan.sinks.map((s) => s.from) };
    const staged = units;
    const planSinks = sinks.slice(0, plan.sinks.length);
    const running = new Scheduler(sourceAdapter(src), executors, staged ? planSinks.map((_, k) => stagingAdapter(staged, k)) : planSinks.map(sinkAdapter), channels, undefined, topology);
    const checks = plan.direct ? [] : await Promise.all(plan.sinks.map(async (s) => outputCheck(s, await appendSchemaCheck(s.config))));
    running.outputChecks = checks;
    // Every run: a stage may reject rows itself (ctx.reject) whatever its onError (with 'fail', its
    // first rejected rows end the run, named by their row numbers).
    const whole = await Promise.all(plan.stages.map((st) => (st.onError && st.onError !== 'fail' && st.modulePath ? keepsState(st.modulePath) : false)));
    const policies = plan.stages.map((st, i) => (st.onError && st.onError !== 'fail' ? { action: st.onError, whole: whole[i] } : undefined));
    // Row numbers count the file's rows as the source passes them on: with rows taken out there, they would not be the file's.
    running.rowErrors = { policies, rejects, rowNumbers: (plan.source.onError ?? 'fail') === 'fail' };
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
    await teardown.race(Promise.all([...executors.map((e) => e.close()), src.close()]));
    // What inline stage code set off before the end must surface before anything is committed:
    // the rest of a run can finish in one turn of the event loop (batches already read, a
    // synchronous sink), so a timer a stage set for 0 ms, or a rejection nobody handled, would
    // otherwise come after the commit, or never (the CLI exits). One timer turn lets every timer
    // already due fire, and rejections be noticed, while the guard still listens.
    await teardown.race(timersDue());
    checks.forEach((check, k) => {
      // A resumed run's earlier units gave the columns (and were checked when they were written).
      if (!check.schema.seen && !(units && units.done.size > 0)) throw noColumns(plan, plan.sinks[k]);
    });
    // The budget as a share of the rows read is known only now; the dead-letter rows are all written before the commit.
    rejects.checkShare(running.sourceMeter.rows + rejects.fromSource);
    await teardown.race(rejects.drain());
    if (units) {
      // The job commit: every unit, in input order, into the sinks, which write and commit it as an uninterrupted run would.
      units.finishUnits();
      for (const [k, sink] of planSinks.entries()) for (const batch of units.replay(k)) await sink.write(batch);
    }
    const staging = units;
    const expected = (k: number) => (k >= plan.sinks.length ? rejects.written : staging ? staging.rows(k) : running.sinkMeters[k].rows);
    // Not raced, and held: once the sinks commit, they finish (renames and fsyncs), signal or
    // not; a stage error that comes meanwhile still stops them before the first rename, and
    // the teardown waits for the commit to settle.
    const nameOf = (k: number) => (k < plan.sinks.length ? plan.sinks[k].name : 'deadLetter');
    const pathOf = (k: number) => (k < plan.sinks.length ? plan.sinks[k].config.path : plan.deadLetter?.path);
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
    units?.committed();
    const report = buildReport(plan, startedAt, t0, startupMs, scheduler, source, results, samples, encoders(), rejects);
    if (units) report.units = units.report();
    if (plan.direct) report.direct = { rowsPerChunk: plan.direct.rowsPerChunk };
    log.info({ pipeline: plan.name, rows: report.sink.rows, ms: report.durationMs }, 'run finished');
    return report;
  } catch (err) {
    await teardown.fail(err);
    const report = buildReport(plan, startedAt, t0, startupMs, scheduler, source, undefined, samples, encoders(), rejects);
    const failure = withProjectionNote(teardown.error, plan.projection);
    if (units) report.units = units.report();
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
async function openPlannedSource(plan: Plan, log: NonNullable<RunOptions['log']>, onBadRow?: (bad: BadRow) => void, units?: { only: string[]; fixedTypes?: FixedSourceTypes }): Promise<Source> {
  const rowsPerChunk = plan.direct?.rowsPerChunk ?? plan.parseIn?.rowsPerChunk;
  const cfg = units ? { ...plan.source, ...units } : plan.source;
  if (rowsPerChunk !== undefined) {
    // A plain conversion joins chunks into row groups across files: their edges must line up
    // (not in a resumable run, whose row groups end with each file).
    const chunks = openCsvChunks(cfg, rowsPerChunk, { log, ownChunks: true, alignAcrossFiles: plan.direct !== undefined && !plan.units });
    return {
      files: chunks.files,
      stats: () => chunks.stats(),
      close: () => chunks.close(),
      async *batches() {
        for await (const chunk of chunks.chunks()) yield csvChunkItem(chunk);
      },
    };
  }
  if (plan.source.thread) return openThreadSource(cfg, { log, readAhead: plan.source.readAhead, ...(plan.source.splitOut && { splitOut: plan.source.splitOut }), ...(onBadRow && { onBadRow }) });
  return openSource(cfg, { log, ...(onBadRow && { onBadRow }) });
}

/**
 * A resumable run's units, opened with every target locked: new, resumed or restarted
 * (opts.units), and the source's column types fixed once, from the run's first file, before
 * any unit is staged (a resumed run reads them from the manifest).
 */
async function openUnits(plan: Plan, targets: string[], opts: RunOptions, log: NonNullable<RunOptions['log']>): Promise<UnitRun> {
  const files = resolveInputs(plan.source.path, plan.source.baseDir);
  // What changes the output: the config file, its params and paths, each stage's options and module (not modes or copies: every mode gives the same answer).
  const settings = { source: { ...plan.source, thread: undefined, readAhead: undefined }, sinks: plan.sinks.map((s) => s.config), params: plan.params.values, stages: plan.stages.map((s) => [s.name, s.options, s.key]) };
  const modules = plan.stages.flatMap((s) => [{ name: s.name, modulePath: s.modulePath }, ...(s.fused ?? []).map((f) => ({ name: f.name, modulePath: f.modulePath }))]);
  const units = UnitRun.open({ targets, files, fingerprint: fingerprintOf(plan.configFile, settings, modules), mode: opts.units ?? 'fresh', log });
  if (!units.schema && (plan.source.format === 'csv' || plan.source.format === 'ndjson')) units.recordSchema({ ...(await fixSourceTypes(plan.source, files[0])) });
  log.info({ runId: units.runId, units: files.length, done: units.done.size }, units.done.size ? 'resuming: units committed earlier are not read again' : 'resumable run: units staged');
  return units;
}

/**
 * One channel per reader: `channels[i]` feeds stage i, `channels[stages + k]` sink k, each
 * bounded as its producer's output says (the source's, or the stage's `channel`).
 */
function channelsOf(plan: Plan): Channel[] {
  const nameOf = (p: number) => (p < 0 ? 'source' : plan.stages[p].name);
  const boundsOf = (p: number) => (p < 0 ? plan.sourceOutput : plan.stages[p].output);
  const sinkName = (s: PlannedSink) => (plan.sinks.length === 1 ? 'sink' : `sink ${s.name}`);
  return [
    ...plan.stages.map((s) => new Channel(`${nameOf(s.input)}→${s.name}`, boundsOf(s.input), plan.ordered)),
    ...plan.sinks.map((s) => new Channel(`${nameOf(s.from)}→${sinkName(s)}`, boundsOf(s.from), plan.ordered)),
  ];
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
function noColumns(plan: Plan, sink: PlannedSink): SinkError {
  const from =
    sink.writes < 0
      ? `the source (${plan.source.path}) yielded no batch`
      : `stage "${plan.stages[sink.writes].name}" passed on no batch (it returned nothing for every batch it was given, or was given none)`;
  return new SinkError(
    `nothing was written to ${sink.config.path}: ${from}, so the output's columns are unknown and an empty ${sink.config.format} output cannot be written with them; ` +
      'a stage that filters out every row should return an empty batch with its output columns instead of nothing (e.g. `batch.slice(0, 0)`, or `ctx.table` with empty arrays)',
  );
}

function sourceAdapter(source: Source): SchedulerSource {
  const batches = source.batches();
  return {
    next: () => batches.next(),
    async close() {
      await batches.return(undefined);
      await source.close();
    },
  };
}

/** A resumable run's sink k: its batches staged unit by unit (io/units), written to the sink at the commit. */
function stagingAdapter(units: UnitRun, k: number): SchedulerSink {
  return {
    write(item) {
      return item.consume(async () => {
        for (const batch of item.batches) units.write(k, batch, item.sourceFile);
      });
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
  scheduler: Scheduler | undefined,
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
function peakRss(scheduler: Scheduler | undefined): Pick<RunReport, 'peakRssBytes' | 'peakRss'> {
  const mainBytes = process.resourceUsage().maxRSS * 1024;
  const children = (scheduler?.executors ?? []).flatMap((e) => (e.childPeakRss?.() ?? []).map((bytes, copy) => ({ stage: e.stage, copy, bytes })));
  return { peakRssBytes: mainBytes + children.reduce((n, c) => n + c.bytes, 0), peakRss: { mainBytes, children } };
}

/** Resolves after every timer that was due by now has fired (timers fire in order of expiry). */
function timersDue(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
