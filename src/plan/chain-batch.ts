/**
 * Batch size per chain: the source's batches are cut for the stages that read them. A stage
 * that runs JavaScript per row wants cache-sized batches (the default 65 536 rows); a chain of
 * polars stages pays per batch instead (a conversion into polars, an expression plan, a
 * group_by's hash table, each of its threads woken), so it wants the largest batches it can get.
 * Measured on the issue-28 job (3 M flights in row groups of 272 727 rows, clean → join →
 * aggregate, all inline in polars): 65 536-row slices 5.15 CPU-s, whole row groups 3.81.
 *
 * So when the one reader of the source is an inline stage (alone, or a fused chain,
 * plan/fuse.ts) whose every member declares `vectorised: true`, and the config does not set
 * `source.batchRows`, a Parquet or Arrow source hands on its own units whole (a row group, a
 * record batch; still cut at VECTORISED_BATCH_ROWS): they are decoded whole anyway, so nothing
 * is held that was not already. CSV and NDJSON keep their batch size (a chunk of text is parsed
 * per batch: a larger one is more memory, not fewer conversions). A thread or process stage
 * keeps it too: its batches travel through slots and frames sized for the channel.
 */
import { VECTORISED_BATCH_ROWS } from '../defaults';
import type { Plan } from './types';

/** `vectorised`: the names of the config's stages whose definition says `vectorised: true`. */
export function withChainBatchRows(plan: Plan, checked: { config: { source: { batchRows?: number } }; vectorised?: readonly string[] }): Plan {
  if (checked.config.source.batchRows !== undefined) return plan;
  if (plan.source.format !== 'parquet' && plan.source.format !== 'arrow') return plan;
  const readers = plan.stages.filter((s) => s.input === -1);
  if (readers.length !== 1 || plan.sinks.some((k) => k.from === -1) || plan.source.splitOut) return plan;
  const [first] = readers;
  const vectorised = new Set(checked.vectorised ?? []);
  const members = first.fused?.map((m) => m.name) ?? [first.name];
  if (first.mode !== 'inline' || first.key || !members.every((m) => vectorised.has(m))) return plan;
  return { ...plan, source: { ...plan.source, batchRows: VECTORISED_BATCH_ROWS, batchRowsFor: first.name } };
}
