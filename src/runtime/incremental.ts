/**
 * The run's side of an incremental run (`source.incremental`, io/units/incremental.ts): how its
 * sinks are opened (directories of parts: "append" adds one, `--full` replaces), which input
 * files it reads once the targets are locked and recovered, and the state it commits with the
 * first sink's output.
 */
import type { Logger } from 'pino';
import type { SinkConfig } from '../config/types';
import { ConfigError, SinkError } from '../errors';
import { resolveInputs } from '../io/sources';
import type { Sink } from '../io/sinks';
import { STATE_FILE, nextState, partId, readState, refuseOtherTargets, selectFiles, statePath, type IncrementalReport, type IncrementalState, type Selection } from '../io/units/incremental';
import type { Plan } from '../plan/types';

/** The sinks' configs as an incremental run opens them: every one a directory, appended to (or replaced with `--full`). */
export function incrementalSinkConfigs<T extends SinkConfig>(cfgs: T[], full: boolean): T[] {
  return cfgs.map((c) => ({ ...c, mode: full ? 'overwrite' : 'append' }));
}

/**
 * A stage with flush() (an aggregate) sees only the files this run reads: with `incremental:
 * true` refused, naming it, since its output would silently cover tonight's files alone;
 * `incremental: 'per-run'` says that is what is wanted.
 */
export function refuseStateful(plan: Plan, stateful: boolean[]): void {
  if (plan.source.incremental !== true) return;
  const i = stateful.findIndex(Boolean);
  if (i < 0) return;
  throw new ConfigError(
    [
      {
        path: 'source.incremental',
        message: `stage "${plan.stages[i].name}" has flush() (it keeps state across batches, e.g. an aggregate): in an incremental run it sees only the files that run reads, so each part would hold its result over that night's files alone. If that is what you want, set source.incremental: 'per-run'; otherwise drop incremental`,
      },
    ],
    plan.configFile,
  );
}

export class IncrementalRun {
  private constructor(
    readonly part: string,
    readonly full: boolean,
    /** Every output, sinks then the dead-letter output: the state is theirs together, kept in the first. */
    private readonly targets: string[],
    private readonly prev: IncrementalState | undefined,
    readonly selection: Selection,
  ) {}

  /**
   * Called with every target locked and recovered (a journal rolled forward), so the state read
   * is the one committed with the outputs as they are now.
   */
  static async open(plan: Plan, targets: string[], part: string, full: boolean, log: Logger, resuming?: readonly string[]): Promise<IncrementalRun> {
    const prev = readState(targets[0]);
    if (prev && !full) refuseOtherTargets(prev, targets, statePath(targets[0]));
    let files = resolveInputs(plan.source.path, plan.source.baseDir);
    if (resuming && !full) {
      // A landing folder gets files all the time: those that arrived since the stopped run chose
      // its files are the next run's; one of its files that is gone is refused by the resume.
      const staged = new Set(resuming);
      const arrived = files.filter((f) => !staged.has(f));
      if (arrived.length) log.info({ files: arrived }, `${arrived.length} input file(s) arrived since the run being resumed chose its files: they are left for the next run`);
      files = files.filter((f) => staged.has(f));
    }
    const selection = await selectFiles(files, prev, full);
    if (resuming && !full && selection.skipped.length) {
      throw new SinkError(
        `cannot resume: the stopped run read ${selection.skipped.length} file(s) that earlier runs had committed (${selection.skipped[0]}${selection.skipped.length > 1 ? ', …' : ''}), so it was a --full run: resume it with --resume --full, or start again with --restart`,
      );
    }
    for (const file of selection.changed) {
      log.warn({ file }, `input ${file} changed since an earlier run committed it: it is read again and its rows go into this run's part; the rows of its earlier version stay in the earlier part`);
    }
    if (selection.gone.length) log.info({ files: selection.gone }, `${selection.gone.length} input file(s) committed earlier are gone: their rows stay in the earlier parts`);
    log.info({ part, read: selection.read.length, skipped: selection.skipped.length, full }, full ? 'incremental run, --full: every input file is read and the outputs replaced' : `incremental run: ${selection.read.length} new or changed input file(s), ${selection.skipped.length} committed earlier`);
    return new IncrementalRun(part, full, targets, prev, selection);
  }

  /** The column types earlier runs fixed (a `--full` run fixes them again). */
  get schema(): IncrementalState['schema'] {
    return this.full ? undefined : this.prev?.schema;
  }

  /** The state after this run, written into the first sink's new tree: published with it, or not at all. */
  async writeState(first: Sink, schema: IncrementalState['schema']): Promise<void> {
    const state = nextState(this.prev, this.selection, { targets: this.targets, part: this.part, full: this.full, schema: this.schema ?? schema });
    if (!first.addFile) throw new Error('internal: the first sink of an incremental run is not a directory');
    await first.addFile(STATE_FILE, JSON.stringify(state, null, 1) + '\n');
  }

  report(wrote: boolean): IncrementalReport {
    const s = this.selection;
    return { ...(wrote && { part: this.part }), full: this.full, state: statePath(this.targets[0]), read: s.read, skipped: s.skipped.length, changed: s.changed, gone: s.gone };
  }

  /** A new part id for a run (io/units/incremental.ts). */
  static partId(): string {
    return partId();
  }
}
