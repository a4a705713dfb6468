/**
 * A resumable run cut into units (one per input file, in input order) with a staged commit
 * per unit, after Hadoop's manifest committer: each sink's unit output is staged under
 * `.<sink>.sluice-staging/<runId>/` (staging.ts); the manifest (manifest.ts, in the first
 * sink's staging directory) records a unit once every sink staged it durably; the job commit
 * replays every unit in input order into the real sinks (which write and commit them as an
 * uninterrupted run would: footer merge, concatenation, partition files) and removes the
 * staging areas. `--resume` reads the manifest, refuses if the config, a stage module or an
 * input changed, and reads only the units not recorded.
 *
 * The run id is a function of the sink targets, so a resumed run finds its staging; attempt
 * directories (`_temporary/<attempt>/`) are per process: whatever a dead attempt left there is
 * not in the manifest, and is removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { SinkError } from '../../errors';
import { stopAt, stopAtUnit } from '../sinks/stop-at';
import { replayStaged, type StagedFrames } from './replay';
import { appendManifestAsync, readManifest, type Fingerprint, type ManifestLine, type ManifestState, type FirstRejectLine, type RejectCountLine, type RunLine } from './manifest';
import { sinkLabel, stagingFailure, type StreamLabel } from './failures';
import { UnitStager, stagedRows } from './staging';
import { IoQueue } from './io-queue';
import { stagedWriter } from './staging-thread';

import { describeUnit, unitKey, unitTagOf, type UnitSpec } from '../../batch/unit-tag';

export type UnitMode = 'fresh' | 'resume' | 'restart';

export interface UnitRunOptions {
  /** Absolute sink targets, in the plan's order. */
  targets: string[];
  /** Every input file, in input order. */
  files: string[];
  /** The run's units, in order (ranges.ts); default one per input file. */
  units?: UnitSpec[];
  /** The config's and the stage modules' hashes (fingerprintOf). */
  fingerprint: Omit<Fingerprint, 'inputs'>;
  /** An incremental run: the sha256 of each input its selection hashed (io/units/incremental.ts). */
  hashes?: ReadonlyMap<string, { sha256: string }>;
  mode: UnitMode;
  /**
   * Staged streams besides the sinks' (runtime/unit-cut.ts): the output at the cut before a
   * stateful stage, which the stages from there on run over again at the commit. Stream c is
   * index `targets.length + c` of write/replay/rows, staged under the first sink's staging
   * directory, in `cut-<c>/`.
   */
  cuts?: number;
  /**
   * The sink stream whose rows do not come in unit order (the dead-letter output: rows are
   * rejected wherever copies happen to be): not written as they come, but asked for
   * (`unitEnd`) just before a unit's line is written, when every row of the unit has been seen.
   */
  loose?: number;
  /**
   * Sink streams never staged per unit: the sinks after a stateful stage (runtime/unit-cut.ts),
   * which the run writes itself (live, or at the job commit). They hold no unit back: a unit is
   * recorded once the staged streams have passed it, not at the end of the input.
   */
  unstaged?: readonly number[];
  /** Per target: its sink's name in the config (`deadLetter` for the dead-letter output), for a failure's message; default the target's file name. */
  names?: string[];
  log?: Logger;
}

/** What the report says of a resumable run's units. */
export interface UnitsReport {
  runId: string;
  total: number;
  /** Units an earlier attempt committed, not read by this run: an input file, or a file and its row groups (`<file> (row groups a–b)`). */
  reused: string[];
  /** Units this run read, named alike. */
  read: string[];
  /**
   * A run cut before a stateful stage (runtime/unit-cut.ts): where the stages from the cut on ran.
   * `live`: during the run, fed as a run without units feeds them (a fresh run); `commit`: at the
   * job commit, over every unit's staged output at the cut (`replayed` batches: a resumed run,
   * a cluster run's commit job).
   */
  tail?: {
    ran: 'live' | 'commit' | 'partials';
    replayed: number;
    /**
     * `partials` (runtime/unit-partials.ts): the stage run per unit; units whose partials this run
     * staged (`stagedRows` rows) and that it read back from an earlier attempt; fresh instances
     * loaded (`renews`); milliseconds at unit edges in its flushes and renews.
     */
    partials?: { stage: string; staged: number; stagedRows: number; reused: number; renews: number; flushMs: number; renewMs: number };
  };
}

/** Each staged stream's directory: one per sink, then one per cut (UnitRunOptions.cuts), inside the first sink's. */
function streamDirs(dirs: string[], cuts = 0): string[] {
  return [...dirs, ...Array.from({ length: cuts }, (_, c) => path.join(dirs[0], `cut-${c}`))];
}

export function stagingDirOf(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.sluice-staging`);
}

export function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function inputIdentity(file: string): string {
  const st = statSync(file);
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}

export class UnitRun {
  readonly runId: string;
  /** Per sink: its staging directory for this run. */
  readonly dirs: string[];
  readonly manifestFile: string;
  /** Units recorded before this run (a resumed run does not read them). */
  readonly done: ReadonlySet<number>;
  /** The input files this run reads, in order. */
  readonly todo: string[];
  /** The units this run reads, in order (what the source is told to read). */
  readonly todoUnits: UnitSpec[];
  /** The run's units, in order, and their keys (batch/unit-tag.ts). */
  readonly specs: UnitSpec[];
  private readonly keys: string[];
  /** Column types fixed by the first unit of the run (kept in the manifest). */
  schema: { csv?: unknown; ndjson?: unknown } | undefined;
  private readonly stagers: UnitStager[];
  /** Per staged stream (sinks, then cuts): how a failure's message names it. */
  private readonly labels: StreamLabel[];
  /** What waits for the disk in this attempt (fsyncs, renames, manifest lines), in order, off the main thread (io-queue.ts). */
  private readonly io = new IoQueue();
  /** Where the unit files are written (a thread of their own: staging-thread.ts); ended with the units. */
  private readonly writer = stagedWriter();
  /** Per staged stream (sinks, then cuts): its directory. */
  private readonly streams: string[];
  private readonly sinkAt: number[];
  private readonly recorded = new Set<number>();
  private replayed = false;
  private readonly loose: ReadonlySet<number>;
  private readonly unstaged: ReadonlySet<number>;
  /**
   * Set by the run, asked just before the line of the unit of `file` is written: the loose
   * stream's batches of the unit; the rows it rejected (a resumed run's `maxErrors` counts them)
   * and the batches the source read of it (a resumed run numbers its batches on from them, so
   * a rejected row's batch number is an uninterrupted run's).
   */
  unitEnd: ((key: string) => { loose: RecordBatch[]; rejected: number; rejectCounts: RejectCountLine[]; firstRejects: FirstRejectLine[]; sourceBatches: number; sourceRows: number }) | undefined;
  private readonly unitOfKey: Map<string, number>;
  /** Per input file cut into several units: the units this run read of it, from the run-local batch seq each began at. */
  private readonly startsOf = new Map<string, { seq: number; unit: number }[]>();
  private lastNoted: string | undefined;
  private readonly state: ManifestState;

  private constructor(
    private readonly opts: UnitRunOptions,
    runId: string,
    state: ManifestState,
    /** A new manifest's first line: written first on the run's I/O queue, so before any unit's line. */
    firstLine?: RunLine,
  ) {
    this.runId = runId;
    this.state = state;
    this.dirs = opts.targets.map((t) => path.join(stagingDirOf(t), runId));
    this.manifestFile = path.join(this.dirs[0], 'manifest.ndjson');
    this.done = new Set(state.units.keys());
    this.specs = unitsOf(opts);
    this.keys = this.specs.map(unitKey);
    this.todoUnits = this.specs.filter((_, i) => !this.done.has(i));
    this.todo = [...new Set(this.todoUnits.map((u) => u.file))];
    this.schema = state.schema && { csv: state.schema.csv, ndjson: state.schema.ndjson };
    this.unitOfKey = new Map(this.keys.map((k, i) => [k, i]));
    const attempt = `${process.pid}-${randomBytes(4).toString('hex')}`;
    this.streams = streamDirs(this.dirs, opts.cuts);
    this.loose = new Set(opts.loose === undefined ? [] : [opts.loose]);
    // A loose stream never holds a unit back: it is written when the others have passed it.
    this.unstaged = new Set(opts.unstaged ?? []);
    this.sinkAt = this.streams.map((_, k) => (this.loose.has(k) || this.unstaged.has(k) ? Infinity : -1));
    const labels = (this.labels = streamLabels(opts));
    const inputOf = (unit: number) => this.specs[unit] && describeUnit(this.specs[unit]);
    this.stagers = this.streams.map(
      (dir, k) => new UnitStager(dir, path.join(dir, '_temporary', attempt), (unit) => (this.loose.has(k) || this.unstaged.has(k) ? undefined : this.passed(k, unit)), this.io, this.writer, labels[k], inputOf),
    );
    if (firstLine) this.appendQueued(firstLine, 'start the manifest');
  }

  /**
   * Open the run's staging: new (`fresh`: refused if a failed run left units; `restart`:
   * whatever was staged is removed) or resumed (`resume`: checked against what the staged
   * units were made from). Called with every target locked.
   */
  static open(opts: UnitRunOptions): UnitRun {
    const runId = unitRunId(opts.targets);
    const dirs = opts.targets.map((t) => path.join(stagingDirOf(t), runId));
    const manifestFile = manifestOf(opts.targets);
    let state = readManifest(manifestFile);
    const fingerprint: Fingerprint = {
      ...opts.fingerprint,
      inputs: opts.files.map((file) => {
        const sha256 = opts.hashes?.get(file)?.sha256;
        return { file, id: inputIdentity(file), ...(sha256 !== undefined && { sha256 }) };
      }),
    };
    if (state.committed) {
      // The job commit published every sink and died before removing the staging: stale.
      opts.log?.info({ staging: dirs[0] }, 'removing the staging of a run that was committed');
      state = { units: new Map(), committed: false };
      removeStaging(opts.targets, dirs);
    }
    const specs = unitsOf(opts);
    if (state.units.size > 0 && opts.mode === 'fresh') {
      throw new SinkError(`a resumable run of ${opts.targets.join(', ')} stopped with ${state.units.size} of ${state.run?.units ?? state.run?.fingerprint.inputs.length ?? '?'} units committed (staged in ${dirs[0]}): run again with --resume to continue it, or --restart to discard them`);
    }
    if (opts.mode === 'resume' && state.run) {
      refuseIfChanged(state.run.fingerprint, fingerprint, dirs[0]);
      refuseOtherUnits(state, specs, dirs[0]);
    }
    if (opts.mode === 'restart' || opts.mode === 'fresh' || !state.run) {
      removeStaging(opts.targets, dirs);
      state = { units: new Map(), committed: false };
    }
    const streams = streamDirs(dirs, opts.cuts);
    for (const dir of streams) {
      // What a dead attempt left unrecorded is not done: it is redone.
      rmSync(path.join(dir, '_temporary'), { recursive: true, force: true });
      mkdirSync(path.join(dir, 'units'), { recursive: true });
    }
    for (const [k, dir] of streams.entries()) {
      const keep = new Set([...state.units.values()].map((u) => u.sinks[k]?.file).filter((f): f is string => f !== undefined));
      for (const name of readdirNames(path.join(dir, 'units'))) if (!keep.has(path.join('units', name))) rmSync(path.join(dir, 'units', name), { force: true });
    }
    let firstLine: RunLine | undefined;
    if (!state.run) {
      // Written by the run's I/O queue, off the main thread: a manifest without it is no run (nothing staged counts), and no unit's line can come before it.
      firstLine = { type: 'run' as const, version: 1 as const, runId, fingerprint, ...(specs.length !== opts.files.length && { units: specs.length }) };
      state.run = firstLine;
    }
    return new UnitRun(opts, runId, state, firstLine);
  }

  /** The source fixed its column types: kept, so a resumed run reads later units with them. */
  recordSchema(schema: { csv?: unknown; ndjson?: unknown }): void {
    if (this.state.schema) return;
    const line = { type: 'schema' as const, ...schema };
    // Queued before any unit's line (the source fixes them before its first batch): a resumed run reads its units with them.
    this.appendQueued(line, 'record the column types in the manifest');
    this.state.schema = line;
    this.schema = schema;
  }

  /**
   * Staged stream k (sink k, or cut k - sinks) takes `batch` (of the item read from
   * `sourceFile`): a promise that settles once it is in its unit's file (staging.ts): the
   * caller holds the batch until then, so the memory waiting for the disk is bounded by what
   * the run holds anyway (its channels). The unit's fsyncs are queued. A throw when queued work
   * failed.
   */
  write(k: number, batch: RecordBatch, sourceFile: string | undefined, seq?: number): Promise<void> | undefined {
    this.io.check();
    const tag = unitTagOf(batch);
    const key = tag ?? (sourceFile !== undefined ? this.keyOf(sourceFile, seq) : undefined);
    if (this.loose.has(k)) throw new Error(`internal: stream ${k} is loose: its batches are taken per unit (unitEnd), not written`);
    if (this.unstaged.has(k)) throw new Error(`internal: stream ${k} is a sink after a stateful stage: it is written by the run, not staged per unit`);
    const stager = this.stagers[k];
    const unit = key !== undefined ? this.unitOfKey.get(key) : (stager.currentUnit ?? this.lastTodo());
    // A run that reads no unit (every one committed by an earlier attempt, killed in its final
    // commit) still flushes its stages: what they pass on then without rows (the Parquet
    // encoder's empty part, which only carries the columns) is no unit's, and the earlier units
    // give the columns. Rows without a unit are a bug.
    if (unit === undefined && key === undefined && this.todoUnits.length === 0 && stagedRows(batch) === 0) return undefined;
    if (unit === undefined) throw new Error(`internal: a batch of ${key}, which is no unit of this run`);
    return stager.write(batch, unit);
  }

  /** The unit (its index) of an item of `sourceFile` whose first batch is `batch`, the run's `seq`-th: as write() finds it. */
  unitOf(batch: RecordBatch | undefined, sourceFile: string | undefined, seq: number | undefined): number | undefined {
    const key = (batch && unitTagOf(batch)) ?? (sourceFile !== undefined ? this.keyOf(sourceFile, seq) : undefined);
    return key === undefined ? undefined : this.unitOfKey.get(key);
  }

  /** Staged stream k takes `batch` as unit `unit`'s (a stage's per-unit partial: runtime/unit-partials.ts); as write(). */
  writeUnit(k: number, batch: RecordBatch, unit: number): Promise<void> {
    this.io.check();
    return this.stagers[k].write(batch, unit);
  }

  /** Stream k's staged batches of each unit an earlier attempt committed (this run does not read them), by unit, in input order. */
  doneUnits(k: number): { unit: number; batches: RecordBatch[] }[] {
    const done = [...this.done].sort((a, b) => a - b);
    return done.map((u) => {
      const staged = this.state.units.get(u)?.sinks[k];
      const frames = staged ? [{ frames: path.join(this.streams[k], staged.file), input: this.specs[u].file, unit: u }] : [];
      const batches = [...replayStaged(frames, (err, f) => stagingFailure(err, 'read back the staged batches', this.labels[k], u, describeUnit(this.specs[u]), f.frames))].map((r) => r.batch);
      return { unit: u, batches };
    });
  }

  /**
   * The source read an item of unit `key` (batch/unit-tag.ts), the `seq`-th of this run (the
   * scheduler numbers them so): where a file's range units begin, so a batch of that file is
   * staged with its range (keyOf).
   */
  noteItem(key: string, seq: number): void {
    if (key === this.lastNoted) return;
    this.lastNoted = key;
    const unit = this.unitOfKey.get(key);
    if (unit === undefined) throw new Error(`internal: the source read ${key}, which is no unit of this run`);
    const spec = this.specs[unit];
    if (!spec.groups) return;
    const starts = this.startsOf.get(spec.file) ?? this.startsOf.set(spec.file, []).get(spec.file)!;
    starts.push({ seq, unit });
  }

  /**
   * The unit key of a batch of input `file` whose source item was the run's `seq`-th: the file
   * itself when it is one unit, else the range the source was reading then (noteItem). Items
   * keep their source item's seq through the stages.
   */
  keyOf(file: string, seq: number | undefined): string {
    const starts = this.startsOf.get(file);
    if (!starts) return file;
    if (seq === undefined) throw new Error(`internal: a batch of ${file}, cut into row-group ranges, without its batch number`);
    let at = starts[0];
    for (const s of starts) if (s.seq <= seq) at = s;
    return this.keys[at.unit];
  }

  /** End of stream: every sink's last unit is finished, and every unit of this run recorded (durably, once this resolves). */
  async finishUnits(): Promise<void> {
    for (const s of this.stagers) s.finish();
    this.sinkAt.fill(this.specs.length);
    this.record();
    try {
      await this.io.idle();
    } finally {
      // idle() has awaited the whole queue either way: every staged file is closed.
      await this.writer.close();
    }
  }

  /** The run failed: the unit being written is dropped; resolves once the queued file work has settled. */
  async abort(): Promise<void> {
    for (const s of this.stagers) s.abort();
    await this.io.settled();
    await this.writer.close();
  }

  /** Resolves once the file work queued so far is done (the units recorded so far are in the manifest); throws its first failure. */
  idle(): Promise<void> {
    return this.io.idle();
  }

  /** Stream k's batches of every unit, in input order: what an uninterrupted run gave it. */
  *replay(k: number): Generator<RecordBatch> {
    for (const { batch } of this.replayUnits(k)) yield batch;
  }

  /** As replay, with the input file of each batch's unit. */
  replayUnits(k: number): Generator<{ batch: RecordBatch; file?: string }> {
    return replayStaged(this.stagedFrames(k), (err, { unit, frames }) =>
      stagingFailure(err, 'read back the staged batches', this.labels[k], unit, unit !== undefined ? describeUnit(this.specs[unit]) : undefined, frames),
    );
  }

  /** Stream k's staged frames file of each unit, in input order. Lazy: a unit's entry is looked up (and the test hook fires) only when the replay reaches it. */
  private *stagedFrames(k: number): Generator<StagedFrames | null> {
    for (let u = 0; u < this.specs.length; u++) {
      // Test hook: half-way through the job commit's first replay, some output in the sinks' temporaries.
      if (u === this.specs.length >> 1 && !this.replayed) {
        this.replayed = true;
        stopAt('replay');
      }
      const entry = this.state.units.get(u);
      if (!entry) throw new SinkError(`unit ${u + 1} (${describeUnit(this.specs[u])}) is not in the manifest ${this.manifestFile}; nothing was committed (a bug in sluice)`);
      const unit = entry.sinks[k];
      yield unit ? { frames: path.join(this.streams[k], unit.file), input: this.specs[u].file, unit: u } : null;
    }
  }

  /** What the units an earlier attempt staged rejected (rows skipped or dead-lettered), and the batches and rows the source read of them. */
  carried(): { rejected: number; rejectCounts: RejectCountLine[]; firstRejects: FirstRejectLine[]; sourceBatches: number; sourceRows: number } {
    const done = [...this.state.units.values()].filter((u) => this.done.has(u.unit));
    const sum = (f: (u: (typeof done)[number]) => number | undefined) => done.reduce((n, u) => n + (f(u) ?? 0), 0);
    return { rejected: sum((u) => u.rejected), rejectCounts: done.flatMap((u) => u.rejectCounts ?? []), firstRejects: done.flatMap((u) => u.firstRejects ?? []), sourceBatches: sum((u) => u.sourceBatches), sourceRows: sum((u) => u.sourceRows) };
  }

  /** Rows sink k's units stand for, as the manifest records them. */
  rows(k: number): number {
    return [...this.state.units.values()].reduce((n, u) => n + (u.sinks[k]?.rows ?? 0), 0);
  }

  /**
   * The job commit published every sink: said in the manifest (durably), then the staging goes.
   * Off the main thread: the line's fsync and the removal (unlinking every staged byte, the
   * largest part of a resumable run's end: issue 26) run on libuv's thread pool, the staged
   * files at once, the manifest's folder last.
   */
  async committed(): Promise<void> {
    const published = `every sink was published (the outputs are whole and correct), but its staging stays: remove ${this.dirs.join(', ')} by hand`;
    try {
      await appendManifestAsync(this.manifestFile, { type: 'committed' });
    } catch (err) {
      throw stagingFailure(err, 'record the job commit in the manifest', this.labels[0], undefined, undefined, this.manifestFile, `${published}, or run with --restart next time`);
    }
    try {
      await removeStagingAsync(this.opts.targets, this.dirs, this.manifestFile);
    } catch (err) {
      throw stagingFailure(err, 'remove the staging', this.labels[0], undefined, undefined, this.dirs[0], `${published} (the next run of these sinks removes it too)`);
    }
  }

  report(): UnitsReport {
    return { runId: this.runId, total: this.specs.length, reused: this.specs.filter((_, i) => this.done.has(i)).map(describeUnit), read: this.todoUnits.map(describeUnit) };
  }

  /** `line` appended to the manifest by the run's I/O queue (in order, durably), its failure a SinkError naming the manifest. */
  private appendQueued(line: ManifestLine, action: string): void {
    this.io.push(() =>
      appendManifestAsync(this.manifestFile, line).catch((err: unknown) => {
        throw stagingFailure(err, action, this.labels[0], undefined, undefined, this.manifestFile);
      }),
    );
  }

  private lastTodo(): number | undefined {
    const last = this.todoUnits[this.todoUnits.length - 1];
    return last === undefined ? undefined : this.unitOfKey.get(unitKey(last));
  }

  private passed(k: number, unit: number): void {
    this.sinkAt[k] = unit;
    this.record();
  }

  /** Every unit of this run that every sink has passed, recorded in order. */
  private record(): void {
    const upTo = Math.min(...this.sinkAt);
    for (let u = 0; u < upTo; u++) {
      if (this.done.has(u) || this.recorded.has(u)) continue;
      const { loose, rejected, rejectCounts, firstRejects, sourceBatches, sourceRows } = this.unitEnd?.(this.keys[u]) ?? { loose: [], rejected: 0, rejectCounts: [], firstRejects: [], sourceBatches: undefined, sourceRows: undefined };
      if (loose.length && this.opts.loose === undefined) throw new Error('internal: rejected rows to stage, and no dead-letter stream');
      if (this.opts.loose !== undefined) {
        const stager = this.stagers[this.opts.loose];
        // Not awaited: these batches are the run's own (runtime/rejects.ts), no pool's; the unit's fsync waits for them.
        for (const batch of loose) void stager.write(batch, u);
        stager.finish();
      }
      const line = {
        type: 'unit' as const,
        unit: u,
        file: this.specs[u].file,
        ...(this.specs[u].groups && { groups: this.specs[u].groups }),
        sinks: this.stagers.map((s) => s.staged.get(u) ?? null),
        ...(rejected > 0 && { rejected }),
        ...(rejectCounts.length > 0 && { rejectCounts }),
        ...(firstRejects.length > 0 && { firstRejects }),
        ...(sourceBatches !== undefined && { sourceBatches }),
        ...(sourceRows !== undefined && { sourceRows }),
      };
      this.state.units.set(u, line);
      this.recorded.add(u);
      // Queued after the unit's files' fsyncs and renames: written once they are durable.
      this.io.push(async () => {
        await appendManifestAsync(this.manifestFile, line).catch((err: unknown) => {
          throw stagingFailure(err, 'record the staged unit in the manifest', this.labels[0], u, describeUnit(this.specs[u]), this.manifestFile);
        });
        this.opts.log?.debug({ unit: u + 1, file: line.file }, 'unit committed');
        stopAtUnit(u + 1);
      });
    }
  }
}

/** Per staged stream (sinks, then cuts): how a failure's message names it. */
function streamLabels(opts: UnitRunOptions): StreamLabel[] {
  const sinks = opts.targets.map((t, k) => sinkLabel(opts.names?.[k] ?? path.basename(t), t));
  const cuts = Array.from({ length: opts.cuts ?? 0 }, () => ({ ...sinks[0], text: `the output before the stateful stage, staged beside ${sinks[0].text}` }));
  return [...sinks, ...cuts];
}

/**
 * A run that is not resumable, on targets a failed resumable run left units for: refused, or
 * it would publish an output and leave a staging that a later --resume would commit over it.
 */
export function refuseLeftUnits(targets: string[]): void {
  const manifest = manifestOf(targets);
  if (!existsSync(manifest)) return;
  const state = readManifest(manifest);
  if (state.committed || state.units.size === 0) return;
  throw new SinkError(`a resumable run of ${targets.join(', ')} stopped with ${state.units.size} of ${state.run?.units ?? state.run?.fingerprint.inputs.length ?? '?'} units committed (staged in ${path.dirname(manifest)}): run again with --resume to continue it, or --restart to discard them`);
}

/**
 * The inputs a stopped resumable run of `targets` chose (its manifest's fingerprint, in unit
 * order), or undefined when none is staged or it was committed. An incremental `--resume` reads
 * these and leaves files that arrived since to the next run (runtime/incremental.ts).
 */
export function stagedInputs(targets: string[]): string[] | undefined {
  const state = readManifest(manifestOf(targets));
  if (state.committed || !state.run) return undefined;
  return state.run.fingerprint.inputs.map((i) => i.file);
}

/** The manifest of the resumable run of `targets`, in the first target's staging directory. */
function manifestOf(targets: string[]): string {
  return path.join(stagingDirOf(targets[0]), unitRunId(targets), 'manifest.ndjson');
}

/** A resumable run's id: a function of its sink targets, so a resumed run finds the staging (and a partitioned sink's file names stay the same). */
export function unitRunId(targets: string[]): string {
  return sha256(targets.join('\0')).slice(0, 16);
}

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * removeStaging on libuv's thread pool: every file but the manifest removed at once (unlinking
 * is the kernel's work, file by file), then the folders, the manifest's last (a kill half-way
 * leaves a staging the manifest still describes as committed: the next run removes it).
 */
async function removeStagingAsync(targets: string[], dirs: string[], manifest: string): Promise<void> {
  const files = dirs.flatMap((dir) => filesUnder(dir)).filter((f) => f !== manifest);
  await Promise.all(files.map((f) => rm(f, { force: true })));
  await Promise.all(dirs.slice(1).map((dir) => rm(dir, { recursive: true, force: true })));
  await rm(dirs[0], { recursive: true, force: true });
  for (const t of targets) {
    const parent = stagingDirOf(t);
    if (existsSync(parent) && readdirNames(parent).length === 0) await rm(parent, { recursive: true, force: true });
  }
}

/** Every file under `dir` (none if it is gone). */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  } catch {
    return [];
  }
}

function removeStaging(targets: string[], dirs: string[]): void {
  // The manifest's folder last: a kill half-way leaves a staging that is still described.
  for (const dir of [...dirs].reverse()) rmSync(dir, { recursive: true, force: true });
  for (const t of targets) {
    const parent = stagingDirOf(t);
    if (existsSync(parent) && readdirNames(parent).length === 0) rmSync(parent, { recursive: true, force: true });
  }
}

/** A resumed run refuses what would not give an uninterrupted run's output: name what changed. */
function refuseIfChanged(then: Fingerprint, now: Fingerprint, staging: string): void {
  const changes: string[] = [];
  if (then.config !== now.config) changes.push('the config (or its overrides: --set, --sink-path, --source-path, --mode, --concurrency) changed');
  for (const name of new Set([...Object.keys(then.stages), ...Object.keys(now.stages)])) {
    if (then.stages[name] !== now.stages[name]) changes.push(`the module of stage "${name}" changed`);
  }
  const before = new Map(then.inputs.map((i) => [i.file, i]));
  for (const { file, id, sha256 } of now.inputs) {
    const was = before.get(file);
    if (!was) changes.push(`input ${file} is new`);
    else if (was.id !== id) changes.push(`input ${file} changed (size, modification time or inode)`);
    else if (was.sha256 !== undefined && sha256 !== undefined && was.sha256 !== sha256) changes.push(`input ${file} changed (its bytes; its size, modification time and inode did not)`);
  }
  const after = new Set(now.inputs.map((i) => i.file));
  for (const file of before.keys()) if (!after.has(file)) changes.push(`input ${file} is gone`);
  if (changes.length) {
    throw new SinkError(`cannot resume: since the units staged in ${staging} were written, ${changes.join('; ')}. Resuming would mix outputs of two different runs; run with --restart to discard them and start again`);
  }
}

/** A run's units: as given, or one per input file. */
function unitsOf(opts: UnitRunOptions): UnitSpec[] {
  return opts.units ?? opts.files.map((file) => ({ file }));
}

/**
 * The staged units must be the ones this run would cut (same file, same row groups, at the same
 * index): the fingerprint already refuses a changed config or input, so this is a last check
 * that no unit is read twice or never.
 */
function refuseOtherUnits(state: ManifestState, specs: UnitSpec[], staging: string): void {
  for (const line of state.units.values()) {
    const spec = specs[line.unit];
    if (spec && spec.file === line.file && spec.groups?.[0] === line.groups?.[0] && spec.groups?.[1] === line.groups?.[1]) continue;
    const staged = describeUnit({ file: line.file, ...(line.groups && { groups: line.groups }) });
    throw new SinkError(`cannot resume: unit ${line.unit + 1} staged in ${staging} is ${staged}, but this run cuts its inputs into other units (${spec ? describeUnit(spec) : 'none'} there). Resuming would read rows twice or never; run with --restart to discard the staged units and start again`);
  }
}

/** The fingerprint of a run's config file (and its effective settings) and stage modules. */
export function fingerprintOf(configFile: string, settings: unknown, stages: { name: string; modulePath: string }[]): Omit<Fingerprint, 'inputs'> {
  const config = sha256((configFile && existsSync(configFile) ? readFileSync(configFile, 'utf8') : '') + '\0' + JSON.stringify(settings));
  const hashes: Record<string, string> = {};
  for (const s of stages) if (s.modulePath && existsSync(s.modulePath)) hashes[s.name] = sha256(readFileSync(s.modulePath));
  return { config, stages: hashes };
}
