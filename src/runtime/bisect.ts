/**
 * The rows that make a stage throw, found by re-running it on parts of the batch: a batch on
 * which `process` threw is cut in halves, each half run again, and a half that throws is cut
 * again, down to single rows. The rows that throw alone are rejected (with the stage's message
 * and stack); every other row's output flows on, in the order of the rows. A part is run
 * through the same executor as any batch, so this works alike in every mode.
 *
 * Only for stateless stages: a stage with `flush` has seen (and kept) the rows of every part
 * run before one threw, so running a part again would count them twice; it has the whole batch
 * rejected instead (`whole`).
 *
 * Cost: a batch with k throwing rows among n is run about 2·k·log2(n) more times in parts; a
 * batch that does not throw is run once, as before. A `maxErrors` count bounds k: past it the
 * search stops (a stage that throws on every row ran ~2 000 times on a batch of 1 000 first).
 */
import type { RecordBatch } from 'apache-arrow';
import { OwnedBatch } from '../batch/owned';
import { rowJsonOf } from '../batch/row-json';
import { PoisonBatchError, StageError, isError } from '../errors';
import { ExitCalledError } from './guard';
import type { Reject } from './rejects';

/** Whether a failure is the stage's own code throwing on its rows (not a dead copy, not a load failure, not an inline `process.exit`). */
export function isRowError(err: unknown): err is StageError {
  return err instanceof StageError && err.phase === 'process' && !(err.cause instanceof ExitCalledError);
}

export interface BisectInput {
  stage: string;
  seq: number;
  sourceFile?: string;
  /** The row number in `sourceFile` (1-based) of the batch's first row, when the batch's rows are the file's rows one to one. */
  firstRow?: number;
  batches: readonly RecordBatch[];
}

export interface Bisected {
  /** The output of every part that ran, in row order (the caller's to release). */
  outputs: OwnedBatch[];
  /** Where each output's part starts in the input (its rows the stage rejected itself are counted from there). */
  starts: number[];
  rejects: Reject[];
}

/**
 * Run `process` over parts of `input` until the throwing rows are isolated. `whole`: reject every
 * row of the batch with `first` (the stage's throw on the whole batch), running nothing again.
 * A failure that is not the stage throwing (a copy died) fails as it would have. `room`: the
 * error budget left (Rejects.room); once more rows than that are found the search stops, since
 * the run fails on them anyway (the rows not yet looked at are neither rejected nor passed on).
 */
export async function bisect(input: BisectInput, runPart: (part: OwnedBatch) => Promise<OwnedBatch>, first: StageError, whole: boolean, room?: number): Promise<Bisected> {
  const outputs: OwnedBatch[] = [];
  const starts: number[] = [];
  const rejects: Reject[] = [];
  let offset = 0;
  // The row's values as the NDJSON sink writes them (batch/row-json.ts), formatters made once per batch.
  const jsons = new Map<RecordBatch, (index: number) => string>();
  const json = (batch: RecordBatch) => jsons.get(batch) ?? jsons.set(batch, rowJsonOf(batch)).get(batch)!;
  const reject = (batch: RecordBatch, at: number, err: StageError) => {
    // A poison batch's reason is its death and how often it happened; a stack of sluice's own says nothing.
    const cause = isError(err.cause) && !(err instanceof PoisonBatchError) ? err.cause : undefined;
    const row = input.firstRow !== undefined ? input.firstRow + offset + at : undefined;
    rejects.push({
      origin: 'stage',
      stage: input.stage,
      ...(input.sourceFile !== undefined && { file: input.sourceFile }),
      ...(row !== undefined && { row }),
      batch: input.seq,
      reason: cause?.message ?? err.message,
      values: json(batch)(at),
      ...((cause?.stack ?? err.stack) !== undefined && { stack: cause?.stack ?? err.stack }),
    });
  };
  const over = () => room !== undefined && rejects.length > room;
  const run = async (batch: RecordBatch, lo: number, hi: number, known?: StageError): Promise<void> => {
    if (over()) return;
    let err = known;
    if (!err) {
      try {
        outputs.push(await runPart(OwnedBatch.plain(input.seq, [batch.slice(lo, hi)], input.sourceFile)));
        starts.push(offset + lo);
        return;
      } catch (e) {
        if (!isRowError(e)) throw e;
        err = e;
      }
    }
    if (hi - lo === 1) return reject(batch, lo, err);
    const mid = lo + Math.ceil((hi - lo) / 2);
    await run(batch, lo, mid);
    await run(batch, mid, hi);
  };
  try {
    for (const batch of input.batches) {
      if (over()) break;
      if (whole) for (let at = 0; at < batch.numRows && !over(); at++) reject(batch, at, first);
      else if (batch.numRows > 0) await run(batch, 0, batch.numRows, input.batches.length === 1 ? first : undefined);
      offset += batch.numRows;
    }
  } catch (err) {
    for (const out of outputs) out.release();
    throw err;
  }
  return { outputs, starts, rejects };
}

/**
 * The outputs of the parts as one owned value (their memory released together), numbered `seq`.
 * Parts that gave no rows are left out: a stage that builds its output from JS values may give
 * an empty part columns of other types (nothing to infer them from), which the sink's one
 * schema would refuse; their rows are nowhere anyway.
 */
export function joined(seq: number, sourceFile: string | undefined, outputs: readonly OwnedBatch[]): OwnedBatch {
  const kept = outputs.filter((o) => o.rows > 0);
  for (const o of outputs) if (o.rows === 0) o.release();
  return new OwnedBatch({
    seq,
    sourceFile,
    batches: kept.flatMap((o) => o.batches),
    lease: { release: () => kept.forEach((o) => o.release()) },
  });
}
