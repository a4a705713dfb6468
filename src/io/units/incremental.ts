/**
 * Incremental runs (`source.incremental`; Databricks Auto Loader is the anchor): which input
 * files earlier runs of this pipeline committed, and which this run reads.
 *
 * The state is one small JSON file, `_sluice_incremental.json`, inside the first sink's output
 * directory. Being inside the directory is the point: an incremental sink publishes a whole new
 * tree (the earlier parts hard-linked in, the new part, the new state) with one rename, so the
 * state can never say more or less than the parts beside it; several sinks publish from the
 * commit journal (io/sinks/commit-set.ts), which a crash rolls forward, state included. A run
 * that fails publishes nothing, so the state stays that of the last committed run.
 *
 * A file is known by its absolute path, its identity (size, mtime, inode) and the sha256 of its
 * bytes: an unchanged identity is taken as unchanged content (as git's index and rsync do, so a
 * night does not read the whole archive); another identity has the file hashed, and the same
 * bytes under a new identity (a copy, a touch) are still the committed file. Other bytes under a
 * known path are a changed file: read again, its rows added to the new part (its earlier rows
 * stay in the earlier part), and said in the log and the report.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { SinkError } from '../../errors';

export const STATE_FILE = '_sluice_incremental.json';

/** What the state keeps of a committed input file. */
export interface CommittedFile {
  /** size:mtimeMs:ino when it was read. */
  id: string;
  sha256: string;
  /** The part id of the run that read it. */
  part: string;
  committedAt: string;
}

export interface IncrementalState {
  sluiceIncremental: 1;
  /** Every output of the run that wrote it (sinks, then the dead-letter output): the state is theirs together. */
  targets: string[];
  /** Runs committed into these outputs since the last full one. */
  runs: number;
  /** The source's column types, fixed by the first run (kept, so every part has the same columns). */
  schema?: { csv?: unknown; ndjson?: unknown };
  files: Record<string, CommittedFile>;
}

/** What this run reads, and why the others are left. */
export interface Selection {
  /** Files to read, in input order: new ones and changed ones. */
  read: string[];
  /** Files committed by earlier runs, unchanged: not read. */
  skipped: string[];
  /** Files committed earlier whose bytes changed since: read again. */
  changed: string[];
  /** Files committed earlier that are gone: their rows stay in the parts. */
  gone: string[];
  /** Of each file read: its identity and hash, as the state records them. */
  seen: Map<string, { id: string; sha256: string }>;
}

/** The report's account of an incremental run. */
export interface IncrementalReport {
  /** The part id this run wrote (`part-…-<part>.<ext>`), or none when it wrote nothing. */
  part?: string;
  full: boolean;
  state: string;
  read: string[];
  skipped: number;
  changed: string[];
  gone: string[];
}

export function statePath(firstTarget: string): string {
  return path.join(firstTarget, STATE_FILE);
}

/** The state committed with `firstTarget`'s output, or undefined before the first run. */
export function readState(firstTarget: string): IncrementalState | undefined {
  const file = statePath(firstTarget);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SinkError(`cannot read the incremental state ${file}`, err);
  }
  let state: IncrementalState;
  try {
    state = JSON.parse(text) as IncrementalState;
  } catch (err) {
    throw new SinkError(`${file} is not an incremental state sluice can read (damaged?): run with --full to read every input again and replace the outputs`, err);
  }
  if (state?.sluiceIncremental !== 1 || !Array.isArray(state.targets) || typeof state.files !== 'object' || state.files === null) {
    throw new SinkError(`${file} is not an incremental state sluice can read (written by another version?): run with --full to read every input again and replace the outputs`);
  }
  return state;
}

/** A state kept for other outputs than this run's: its files would be skipped for outputs that never got their rows. */
export function refuseOtherTargets(state: IncrementalState, targets: string[], file: string): void {
  const same = state.targets.length === targets.length && state.targets.every((t, i) => t === targets[i]);
  if (!same) {
    throw new SinkError(
      `the incremental state ${file} belongs to a run writing ${state.targets.join(', ')}; this run writes ${targets.join(', ')}: skipping the files it lists would leave those outputs without their rows. Run with --full to read every input again into these outputs (it replaces them and the state)`,
    );
  }
}

export function fileIdentity(file: string): string {
  const st = statSync(file);
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** `files` (in input order) split into what this run reads and what earlier runs committed. `full`: everything is read. */
export async function selectFiles(files: string[], state: IncrementalState | undefined, full: boolean): Promise<Selection> {
  const sel: Selection = { read: [], skipped: [], changed: [], gone: [], seen: new Map() };
  const known = full ? {} : (state?.files ?? {});
  for (const file of files) {
    const id = fileIdentity(file);
    const before = known[file];
    if (before && before.id === id) {
      sel.skipped.push(file);
      continue;
    }
    const sha256 = await hashFile(file);
    if (before && before.sha256 === sha256) {
      sel.skipped.push(file);
      continue;
    }
    if (before) sel.changed.push(file);
    sel.read.push(file);
    sel.seen.set(file, { id, sha256 });
  }
  const present = new Set(files);
  if (!full) for (const file of Object.keys(state?.files ?? {})) if (!present.has(file)) sel.gone.push(file);
  return sel;
}

/**
 * The state after this run commits: the earlier one's files (none after `--full`), and the
 * files this run read, each as it was hashed. A file that changed while the run read it would
 * be recorded with bytes the output does not hold: refused, nothing committed.
 */
export function nextState(prev: IncrementalState | undefined, sel: Selection, opts: { targets: string[]; part: string; full: boolean; schema?: IncrementalState['schema'] }): IncrementalState {
  const committedAt = new Date().toISOString();
  const files: Record<string, CommittedFile> = opts.full ? {} : { ...(prev?.files ?? {}) };
  for (const file of sel.read) {
    const seen = sel.seen.get(file)!;
    let now: string | undefined;
    try {
      now = fileIdentity(file);
    } catch {
      now = undefined;
    }
    if (now !== seen.id) {
      throw new SinkError(`input ${file} changed (or went) while this run read it: its bytes in the output may not be those recorded as committed; nothing was committed, run again once it is complete`);
    }
    files[file] = { id: seen.id, sha256: seen.sha256, part: opts.part, committedAt };
  }
  const runs = (opts.full ? 0 : (prev?.runs ?? 0)) + 1;
  return { sluiceIncremental: 1, targets: opts.targets, runs, ...(opts.schema && { schema: opts.schema }), files };
}

/**
 * A run's part id: its start time (UTC, to the second) then random hex, so part files sort in
 * the order runs started and two runs never name a part alike.
 */
export function partId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}
