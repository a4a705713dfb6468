/**
 * Rows a stage rejected itself (`ctx.reject(rows, reason)`, worker/api.ts), as they travel from
 * the copy that ran the stage to the main thread with its output: plain data, JSON-safe, so a
 * process frame header carries it as well as postMessage does. Main adds where the batch came
 * from (batch number, source file, source row) and routes them by the stage's `onError`.
 */
export interface StageReject {
  /** The stage that rejected the row (a fused group's member, by its own name). */
  stage: string;
  /**
   * The row's position in the task's input (0-based, across its record batches), when the
   * stage received the task's input rows as they came (a fused member after one that changed
   * the row count did not): main turns it into the source row number. Absent otherwise.
   */
  at?: number;
  /** The row's position in the batch the stage received (0-based). */
  index: number;
  reason: string;
  /** The row's values as the stage received them, as JSON text (batch/row-json.ts). */
  values: string;
}
