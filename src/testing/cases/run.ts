/**
 * Running one case: its input rows through one stage, or through every stage of the pipeline
 * in order (source and sink left out), each stage as one copy in its configured mode, then
 * the output compared with the expected rows. A failure is a value: the case fails, the next
 * case still runs.
 */
import type { RecordBatch } from 'apache-arrow';
import type { ColumnTypeName, StageMode } from '../../config/types';
import { isError, SluiceError } from '../../errors';
import { watchStall } from '../../executors/stall';
import type { PlannedStage } from '../../plan/types';
import { batchFromRows, type Row } from '../build';
import { diffBatches } from '../diff';
import { startStage } from '../harness';
import type { PipelineCase } from './define';

export interface CaseOutcome {
  name: string;
  /** `stage double (thread)` or `pipeline: double (thread) → count (inline)`. */
  target: string;
  ok: boolean;
  /** Why it failed: the diff, or the stage's error. */
  detail?: string;
}

export interface CaseContext {
  stages: readonly PlannedStage[];
  /** The source's declared column types: defaults for input columns of the same name. */
  sourceSchema?: Record<string, ColumnTypeName>;
  /** Every stage in this mode instead of its configured one (`--every-mode`). */
  mode?: StageMode;
}

export async function runCase(c: PipelineCase, ctx: CaseContext): Promise<CaseOutcome> {
  const stages = (c.stage === undefined ? ctx.stages : ctx.stages.filter((s) => s.name === c.stage)).map((s) => ({
    ...s,
    mode: ctx.mode ?? s.mode,
    options: c.stage !== undefined && c.options ? c.options : s.options,
  }));
  const chain = stages.map((s) => `${s.name} (${s.mode})`).join(' → ');
  const target = c.stage === undefined ? `pipeline: ${chain || 'no stages'}` : `stage ${chain}`;
  // A stage promise that never settles: Node runs out of work and would exit 0 mid-case.
  const at = { now: 'start-up' };
  const stall = watchStall(() => at.now, `case "${c.name}"`);
  try {
    let batches = inputBatches(c, ctx.sourceSchema);
    for (const stage of stages) batches = await Promise.race([throughStage(stage, batches, at), stall.stalled]);
    const diff = diffBatches(batches, c.expected, { ordered: c.ordered ?? true });
    return { name: c.name, target, ok: diff === undefined, ...(diff !== undefined && { detail: diff }) };
  } catch (err) {
    const message = err instanceof SluiceError ? err.message : isError(err) ? (err.stack ?? err.message) : String(err);
    return { name: c.name, target, ok: false, detail: message };
  } finally {
    stall.dispose();
  }
}

/** `at.now`: what the case waits on, for a stall's message. */
async function throughStage(stage: PlannedStage, input: RecordBatch[], at: { now: string }): Promise<RecordBatch[]> {
  const what = `stage "${stage.name}" (${stage.mode})`;
  at.now = `${what} in setup()`;
  const run = await startStage(stage.modulePath, { mode: stage.mode, options: stage.options, name: stage.name, ...(stage.params && { params: stage.params }) });
  try {
    const out: RecordBatch[] = [];
    for (const [i, batch] of input.entries()) {
      at.now = `${what} on batch #${i}`;
      out.push(...(await run.process(batch)));
    }
    at.now = `${what} in flush()`;
    out.push(...(await run.flush()));
    return out;
  } finally {
    await run.close();
  }
}

/** All rows typed together (one column, one type), then cut into batches of `batchRows`. */
function inputBatches(c: PipelineCase, sourceSchema: Record<string, ColumnTypeName> = {}): RecordBatch[] {
  if (c.input.length === 0) return [];
  const present = new Set(c.input.flatMap((r: Row) => Object.keys(r)));
  const types = Object.fromEntries(Object.entries({ ...sourceSchema, ...c.types }).filter(([name]) => present.has(name)));
  const all = batchFromRows(c.input, types);
  const size = c.batchRows ?? all.numRows;
  const out: RecordBatch[] = [];
  for (let at = 0; at < all.numRows; at += size) out.push(all.slice(at, Math.min(at + size, all.numRows)));
  return out;
}
