/**
 * Sinks: batches to Parquet / CSV / NDJSON / Arrow, atomically. Everything is written
 * under a hidden temporary sibling and renamed into place on commit (plus `_SUCCESS` in
 * directory outputs); abort removes the temporary and leaves the previous output as it was.
 * One run writes a target at a time (lock.ts); every failure names the target (failures.ts).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SinkConfig } from '../../config/types';
import { SINK_MODE } from '../../defaults';
import { SinkError } from '../../errors';
import { outputPathProblem, remotePathProblem } from '../../inputs';
import { sinkFailure } from './failures';
import { CommitGuard, DirectorySink, FileSink } from './kinds';
import { SinkLock } from './lock';
import { CreatedParents } from './parents';
import { recoverTarget } from './recover';
import type { Sink } from './types';

export type { Prepared, Publish, Sink, SinkResult } from './types';
export { commitTogether } from './commit-set';

export interface OpenSinkOptions {
  log?: Logger;
  /** Named in the lock file, so a second run on the same path can say whose run holds it. */
  pipeline?: string;
  /**
   * Parquet: the batches are row groups already encoded by the run's encoding stage
   * (operators/parquet-encode.ts); the sink appends them in the order they come, each to its
   * partition's file when partitioned (tagged by the partitioning stage, operators/partition.ts).
   * For `openSinks`, one value for all, or one per sink.
   */
  parts?: boolean | readonly boolean[];
  /**
   * What a partitioned sink names its files with (`part-00000-<runId>.parquet`): a resumable
   * run's own id, so its output's names are the same however often it is resumed; else random.
   */
  runId?: string;
  /**
   * Per sink: write its target as a directory of part files even without `partitionBy` (an
   * incremental run: `part-00000-<runId>.<ext>` at the root, `mode` "append" adding one).
   */
  directories?: readonly boolean[];
}

/**
 * Open the sink: lock the target (one writer per path), clean up what dead runs left beside
 * it, check the mode against what exists, and start writing into a temporary sibling.
 */
export async function openSink(cfg: SinkConfig, opts: OpenSinkOptions = {}): Promise<Sink> {
  return (await openSinks([cfg], opts))[0];
}

/**
 * Open every sink of a run, or none: each target is locked before anything is written to any
 * (so a run that cannot lock its second target has written nothing and holds nothing), then
 * each is recovered and opened; a failure releases every lock and removes every temporary.
 */
export async function openSinks(cfgs: SinkConfig[], opts: OpenSinkOptions = {}): Promise<Sink[]> {
  // A URL is not a local path: resolved as one it would make a folder named `s3:`.
  for (const c of cfgs) {
    const remote = remotePathProblem(c.path);
    if (remote) throw new SinkError(remote);
  }
  const targets = cfgs.map((c) => path.resolve(c.path));
  const twice = targets.find((t, i) => targets.indexOf(t) !== i);
  if (twice !== undefined) throw new SinkError(`two sinks write ${twice}: every sink needs a path of its own`);
  const claimed: Claimed[] = [];
  try {
    for (const cfg of cfgs) claimed.push(claim(cfg, opts));
  } catch (err) {
    for (const c of claimed.reverse()) c.release();
    throw err;
  }
  const held = new Set(targets);
  const sinks: Sink[] = [];
  try {
    for (const [k, c] of claimed.entries()) sinks.push(await openClaimed(c, { ...opts, parts: Array.isArray(opts.parts) ? opts.parts[k] : opts.parts, directory: opts.directories?.[k] === true }, held));
  } catch (err) {
    // In reverse: a folder the first claim made holds the later ones' locks until they go.
    for (const c of claimed.slice(sinks.length + 1).reverse()) c.release();
    for (const sink of sinks.reverse()) await sink.abort();
    throw err;
  }
  return sinks;
}

/** A target locked, with the folders above it this run made. */
interface Claimed {
  cfg: SinkConfig;
  target: string;
  lock: SinkLock;
  parents: CreatedParents;
  release(): void;
}

function claim(cfg: SinkConfig, opts: OpenSinkOptions): Claimed {
  const target = path.resolve(cfg.path);
  const problem = outputPathProblem(target);
  if (problem) throw new SinkError(`cannot open ${target}: ${problem}`);
  let parents: CreatedParents | undefined;
  try {
    let lock: SinkLock | undefined;
    // Another run that made the folder and failed removes it while it is empty (parents.ts):
    // between our finding it there and our lock landing in it, it can go. Make it again (it is
    // then ours to remove) and retry; once the lock is in it, it is never empty.
    for (let attempt = 1; !lock; attempt++) {
      parents = CreatedParents.make(path.dirname(target));
      try {
        lock = SinkLock.acquire(target, opts.pipeline ?? 'unnamed', opts.log);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3 || existsSync(path.dirname(target))) throw err;
      }
    }
    const made: CreatedParents = parents!;
    return {
      cfg,
      target,
      lock,
      parents: made,
      release: () => {
        lock.release();
        made.removeEmpty();
      },
    };
  } catch (err) {
    parents?.removeEmpty();
    throw sinkFailure(err, 'open', target);
  }
}

/** Recover the claimed target, check its mode against what exists, and start writing. On failure: released. */
async function openClaimed(c: Claimed, opts: OpenSinkOptions & { directory?: boolean }, held: ReadonlySet<string>): Promise<Sink> {
  const { cfg, target, lock, parents } = c;
  const mode = cfg.mode ?? SINK_MODE;
  const directory = cfg.partitionBy !== undefined || opts.directory === true;
  try {
    await recoverTarget(target, { log: opts.log, held, pipeline: opts.pipeline });
    const exists = existsSync(target);
    if (mode === 'error-if-exists' && exists) {
      throw new SinkError(`${target} already exists and sink.mode is "error-if-exists" (use "overwrite" to replace it or "append" to add to it)`);
    }
    if (exists && !directory && statSync(target).isDirectory()) {
      throw new SinkError(`${target} is a directory; a sink without partitionBy writes one file`);
    }
    if (exists && directory && !cfg.partitionBy && !statSync(target).isDirectory()) {
      throw new SinkError(`${target} is a file, and an incremental run writes a directory of part files there: move the file away, or give the sink another path`);
    }
    const append = mode === 'append' && exists;
    if (append && !directory && (cfg.format === 'parquet' || cfg.format === 'arrow')) {
      throw new SinkError(`sink.mode "append" cannot add to an existing ${cfg.format} file (${target}): its footer would have to be rewritten; write a partitioned directory (partitionBy) or use "overwrite"`);
    }
    const guard = new CommitGuard(target, mode, append, lock, parents);
    const parts = opts.parts === true;
    const sink = directory ? new DirectorySink(cfg, guard, parts, opts.runId) : new FileSink(cfg, guard, parts);
    opts.log?.debug({ target, mode, temp: sink.temp, lock: lock.file }, 'sink opened');
    return sink;
  } catch (err) {
    c.release();
    throw sinkFailure(err, 'open', target);
  }
}
