/**
 * Runs a stage module in a test the way a pipeline runs it: through the engine's own executors
 * (executors/: inline on this thread, a piscina worker thread, a child process), which all host
 * the stage through worker/host.ts with a real `ctx`. Nothing here hosts a stage itself.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { decodeBatches, encodeBatches } from '../batch/ipc';
import type { StageMode } from '../config/types';
import { freshInstance } from '../worker/fresh';
import { createExecutor, OwnedBatch, type StageExecutor } from '../executors';
import { SLOTS_PER_COPY } from '../defaults';
import { batchFromRows, type Row } from './build';
import { batchesOf, isBatchesLike, rowsOf, type BatchesLike } from './values';

export interface StageTestOptions {
  /** Where the stage runs: `inline` (default), `thread` or `process`. */
  mode?: StageMode;
  /** The stage's `options` (`ctx.options`). */
  options?: Record<string, unknown>;
  /** Copies started (`ctx.copies`); default 1. `flush` runs in each. */
  copies?: number;
  /**
   * The stage's `key` (keyed routing), as in its config entry: with `copies` > 1 each row goes
   * to the copy of its key's hash, as in a run. Default: none (a batch goes to the least busy copy).
   */
  key?: string[];
  /** The stage's name (`ctx.stage`); default the module's file name. */
  name?: string;
  /**
   * The run's params (`ctx.params`), as resolved values (`{ day: '2026-11-30', limit: 100 }`);
   * default none. `sluice test` passes the config's, with their defaults and `--set`.
   */
  params?: Readonly<Record<string, string | number | boolean>>;
  /** Lowest level of the stage's log lines kept in `logs` (default `info`). */
  logLevel?: pino.Level;
}

/** A row the stage rejected with `ctx.reject(rows, reason)`. */
export interface TestReject {
  /** The input batch it was in: 0 for the first batch `process` got in this run, 1 for the next, … */
  batch: number;
  /** Its index in that batch (0-based). */
  row: number;
  reason: string;
  /** Its values as the stage received them, as the dead-letter output's `values` holds them (parsed JSON: a 64-bit integer a double cannot hold is its digits as a string). */
  values: Record<string, unknown>;
}

/** A log line the stage wrote through `ctx.log`, as pino's JSON object (`msg`, `level`, `stage`, …). */
export type LogLine = Record<string, unknown> & { msg?: string; level: number };

export interface StageTestRun {
  readonly mode: StageMode;
  /** Lines the stage logged so far, from every copy. */
  readonly logs: LogLine[];
  /** Rows the stage rejected so far with `ctx.reject`, in the order of the batches, then of the rows. */
  readonly rejects: TestReject[];
  /** Calls `process` once per batch (rows make one batch); resolves with what it returned. */
  process(input: BatchesLike | readonly Row[]): Promise<RecordBatch[]>;
  /** Calls `flush` in every copy (once); resolves with what they returned. */
  flush(): Promise<RecordBatch[]>;
  /** Stops the copies (threads, children). Always call it, e.g. in a `finally`. */
  close(): Promise<void>;
}

export interface StageTestResult {
  /** Everything the stage returned: per input batch in order, then what `flush` returned. */
  batches: RecordBatch[];
  /** What each `process` call returned, per input batch. */
  processed: RecordBatch[][];
  flushed: RecordBatch[];
  logs: LogLine[];
  /** Rows the stage rejected with `ctx.reject` (they are not in `batches` unless the stage returned them too). */
  rejects: TestReject[];
  /** `batches` as plain rows (bigint for 64-bit integers, Date for dates). */
  rows(): Row[];
}

/**
 * Start a stage: loads a fresh instance of its module (inline) or starts its threads or
 * children, and runs `setup` in every copy. A relative path is resolved from the working
 * directory; pass `path.join(__dirname, …)` or a `file:` URL to be independent of it.
 */
export async function startStage(module: string | URL, opts: StageTestOptions = {}): Promise<StageTestRun> {
  const modulePath = resolveModule(module);
  const mode = opts.mode ?? 'inline';
  if (!['inline', 'thread', 'process'].includes(mode)) throw new TypeError(`startStage: mode must be inline, thread or process (got ${JSON.stringify(mode)})`);
  const copies = opts.copies ?? 1;
  if (!Number.isInteger(copies) || copies < 1) throw new TypeError(`startStage: copies must be an integer >= 1 (got ${copies})`);
  const key = opts.key;
  if (key !== undefined && (!Array.isArray(key) || key.length === 0 || !key.every((c) => typeof c === 'string' && c !== '') || new Set(key).size !== key.length)) {
    throw new TypeError(`startStage: key must be a list of distinct column names, at least one (got ${JSON.stringify(key)})`);
  }
  const logs: LogLine[] = [];
  const log = pino({ level: opts.logLevel ?? 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const executor = createExecutor(
    {
      name: opts.name ?? path.basename(modulePath).replace(/\.[cm]?[jt]s$/, ''),
      modulePath,
      mode,
      copies,
      options: opts.options ?? {},
      ...(opts.params && { params: { ...opts.params } }),
      slotsPerCopy: SLOTS_PER_COPY[mode],
      output: { capacity: 1, capacityBytes: Number.MAX_SAFE_INTEGER },
      ...(key && { key }),
    },
    // A fresh instance per copy (as in a pipeline run): never the one a test imported itself, nor an earlier run's.
    { log, loadStage: freshInstance },
  );
  try {
    await executor.start();
  } catch (err) {
    await executor.abort();
    throw err;
  }
  return new Run(executor, mode, logs);
}

/** Start the stage, process each input batch in order, flush, close: what one pipeline run does to it. */
export async function runStage(module: string | URL, input: BatchesLike | readonly Row[], opts: StageTestOptions = {}): Promise<StageTestResult> {
  const run = await startStage(module, opts);
  try {
    const processed: RecordBatch[][] = [];
    for (const batch of inputBatches(input)) processed.push(await run.process(batch));
    const flushed = await run.flush();
    const batches = [...processed.flat(), ...flushed];
    return { batches, processed, flushed, logs: run.logs, rejects: run.rejects, rows: () => rowsOf(batches) };
  } finally {
    await run.close();
  }
}

class Run implements StageTestRun {
  private seq = 0;
  private closed = false;
  readonly rejects: TestReject[] = [];

  constructor(
    private readonly executor: StageExecutor,
    readonly mode: StageMode,
    readonly logs: LogLine[],
  ) {}

  async process(input: BatchesLike | readonly Row[]): Promise<RecordBatch[]> {
    const out: RecordBatch[] = [];
    for (const batch of inputBatches(input)) {
      const seq = this.seq++;
      const result = await this.executor.process(OwnedBatch.plain(seq, [batch]));
      for (const r of result.rejected ?? []) this.rejects.push({ batch: seq, row: r.index, reason: r.reason, values: JSON.parse(r.values) as Record<string, unknown> });
      out.push(...owned(result));
    }
    return out;
  }

  async flush(): Promise<RecordBatch[]> {
    return (await this.executor.flush()).flatMap(owned);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.executor.close();
  }
}

function inputBatches(input: BatchesLike | readonly Row[]): RecordBatch[] {
  if (Array.isArray(input) && input.length === 0) return [];
  return isBatchesLike(input) ? batchesOf(input) : [batchFromRows(input as readonly Row[])];
}

/**
 * Output of a thread or process copy lies in recycled shared memory, reused once its lease is
 * released: the test gets its own copy (one Arrow IPC round trip) and the lease goes back.
 */
function owned(output: OwnedBatch): RecordBatch[] {
  if (!output.leased) {
    output.release();
    return output.batches;
  }
  try {
    const { chunks, byteLength } = encodeBatches(output.batches);
    const bytes = new Uint8Array(byteLength);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    return decodeBatches(bytes);
  } finally {
    output.release();
  }
}

function resolveModule(module: string | URL): string {
  const file = module instanceof URL || String(module).startsWith('file:') ? fileURLToPath(module) : path.resolve(String(module));
  if (!existsSync(file)) {
    const relative = typeof module === 'string' && !path.isAbsolute(module) && !module.startsWith('file:');
    throw new Error(`no stage module at ${file}${relative ? ` (a relative path is resolved from the working directory ${process.cwd()}; pass path.join(__dirname, …) instead)` : ''}`);
  }
  return file;
}
