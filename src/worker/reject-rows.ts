/**
 * `ctx.reject(rows, reason)` (worker/api.ts): which rows of the batch a stage's `process` is
 * running on it takes out, and why. The call finds its batch through the async context of that
 * `process` call (AsyncLocalStorage follows the stage's awaits), so two tasks of one copy that
 * overlap (an async stage) never mix their rows, and a call outside `process` (setup, flush,
 * combine, a timer that fires after `process` returned) fails loudly instead of landing on
 * some other batch.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataType, type Bool, type RecordBatch, type Vector } from 'apache-arrow';
import { onStagesBehalf } from '../batch/left-out-guard';
import { rowJsonOf } from '../batch/row-json';
import type { StageReject } from '../protocol/rejects';

/** Row indices of the batch, or a mask with one entry per row (true: rejected). */
export type RejectRows = readonly number[] | Int32Array | Uint32Array | readonly boolean[] | Uint8Array | Vector<Bool>;

/** The rows one `process` call rejected, collected as the stage names them. */
export class RejectScope {
  /** Row index → the reason it was first rejected for (a row rejected twice counts once). */
  private readonly rows = new Map<number, string>();
  private open = true;

  constructor(
    readonly host: object,
    private readonly batch: RecordBatch,
  ) {}

  add(rows: RejectRows, reason: string): void {
    if (!this.open) throw new Error('ctx.reject(rows, reason) was called after process() returned: call it before process() returns (or before its promise settles)');
    if (typeof reason !== 'string' || reason === '') throw new TypeError(`ctx.reject(rows, reason): reason must be a non-empty string (got ${reason === '' ? 'an empty string' : typeof reason}); it is what the dead-letter output and the report show`);
    for (const i of indicesOf(rows, this.batch.numRows)) if (!this.rows.has(i)) this.rows.set(i, reason);
  }

  /** Ends the scope, forgetting its rows (the attempt failed): later calls fail. */
  end(): void {
    this.open = false;
  }

  /** Ends the scope: later calls fail. The rows in index order, with their values as JSON text. */
  close(stage: string, offset: number | undefined): StageReject[] {
    this.open = false;
    if (this.rows.size === 0) return [];
    const indices = [...this.rows.keys()].sort((a, b) => a - b);
    // sluice reads the row for the record, not the stage: the left-out guard does not apply.
    return onStagesBehalf(() => {
      const json = rowJsonOf(this.batch);
      return indices.map((index) => ({
        stage,
        index,
        ...(offset !== undefined && { at: offset + index }),
        reason: this.rows.get(index)!,
        values: json(index),
      }));
    });
  }
}

export const rejectScope = new AsyncLocalStorage<RejectScope>();

/** The row indices `rows` names, each checked against the batch's `numRows`. */
function indicesOf(rows: RejectRows, numRows: number): number[] {
  const say = (what: string) => new TypeError(`ctx.reject(rows, reason): ${what}; rows are indices of the batch process() received (0 … ${numRows - 1}: number[], Int32Array, Uint32Array) or a mask of its ${numRows} rows (boolean[], Uint8Array, an Arrow Bool vector)`);
  if (rows instanceof Int32Array || rows instanceof Uint32Array) return checked(Array.from(rows), numRows, say);
  if (rows instanceof Uint8Array) return maskOf(rows.length, (i) => rows[i] !== 0, numRows, say);
  if (isVector(rows)) {
    if (!DataType.isBool(rows.type)) throw say(`got an Arrow vector of ${String(rows.type)}, not Bool`);
    return maskOf(rows.length, (i) => rows.get(i) === true, numRows, say);
  }
  if (!Array.isArray(rows)) throw say(`got ${rows === null ? 'null' : typeof rows === 'object' ? ((rows as object).constructor?.name ?? 'an object') : typeof rows}`);
  const list = rows as readonly unknown[];
  if (list.length === 0) return [];
  if (list.every((v) => typeof v === 'boolean')) return maskOf(list.length, (i) => list[i] === true, numRows, say);
  if (list.every((v) => typeof v === 'number')) return checked(list as number[], numRows, say);
  throw say('got an array that is neither all numbers nor all booleans');
}

/** By shape, not class: a stage may build its vector with another copy of apache-arrow. */
function isVector(rows: unknown): rows is Vector {
  const v = rows as Partial<Vector> | null;
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v.type instanceof Object && typeof v.get === 'function' && typeof v.length === 'number';
}

function checked(indices: number[], numRows: number, say: (what: string) => Error): number[] {
  for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= numRows) throw say(`${i} is not the index of a row of the batch`);
  return indices;
}

function maskOf(length: number, rejected: (i: number) => boolean, numRows: number, say: (what: string) => Error): number[] {
  if (length !== numRows) throw say(`a mask of ${length} entries for a batch of ${numRows} rows`);
  const out: number[] = [];
  for (let i = 0; i < length; i++) if (rejected(i)) out.push(i);
  return out;
}
