/** The resolved plan as text: what will run where, and how much memory it may hold. */
import { PARQUET_ENCODER_SLOTS, PARQUET_PENDING_BUDGET_BYTES, SINK_MODE } from '../defaults';
import type { Plan } from './types';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;

/** The plan alone; its warnings (plan/warnings.ts) are printed by the command beside it. */
export function renderPlan(plan: Plan, files: string[]): string {
  return plan.direct ? renderDirect(plan, plan.direct, files) : renderBatches(plan, files);
}

function renderBatches(plan: Plan, files: string[]): string {
  const src = plan.source;
  const lines = [
    `pipeline ${plan.name}${plan.configFile ? `  (${plan.configFile})` : ''}`,
    ...paramLines(plan),
    `source   ${src.format}, ${files.length} file(s), ${src.batchRows.toLocaleString('en-US')} rows per batch, ${src.thread ? `read on a thread of its own (${src.readAhead} batches ahead)` : 'read on the main thread'}`,
    ...fileLines(files),
    `  ↓ channel: ${plan.sourceOutput.capacity} batches, ${mib(plan.sourceOutput.capacityBytes)}`,
  ];
  for (const s of plan.stages) {
    const slots = s.copies * s.slotsPerCopy;
    lines.push(`stage    ${s.name}: ${s.mode} × ${s.copies} (up to ${slots} batch${slots === 1 ? '' : 'es'} in flight)  ${s.modulePath}`);
    lines.push(`  ↓ channel: ${s.output.capacity} batches, ${mib(s.output.capacityBytes)}`);
  }
  lines.push(
    sinkLine(plan),
    `order    ${plan.ordered ? 'ordered: output keeps input order (reorder buffer bounded by the channels)' : 'unordered: batches pass as they finish'}`,
    `memory   batch memory is bounded by ${mib(plan.memoryBoundBytes)}: ${src.thread ? 'the source read-ahead + ' : ''}every channel at its byte cap + each in-flight task's input (one batch per slot)${plan.sink.format === 'parquet' ? ` + the Parquet encoder (${mib(PARQUET_PENDING_BUDGET_BYTES)} of rows waiting for a full row group, at most, and ${PARQUET_ENCODER_SLOTS} batch slots)` : ''}`,
  );
  return lines.join('\n');
}

/** A plain CSV → Parquet conversion: no batches, no channels (runtime/direct.ts). */
function renderDirect(plan: Plan, direct: NonNullable<Plan['direct']>, files: string[]): string {
  const rows = direct.rowsPerChunk.toLocaleString('en-US');
  return [
    `pipeline ${plan.name}${plan.configFile ? `  (${plan.configFile})` : ''}`,
    ...paramLines(plan),
    `source   csv, ${files.length} file(s), read on the main thread and cut into chunks of ${rows} rows (whole rows, checked)`,
    ...fileLines(files),
    `  ↓ direct: no stages, so each chunk is parsed and encoded as one row group by the Parquet encoder threads (up to one per core); no Arrow batches, no channels`,
    sinkLine(plan),
    `order    ordered: row groups are written in input order`,
    `memory   bounded by the encoder's few chunk slots (CSV text of ${rows} rows each) and one parsed row group per encoder thread`,
  ].join('\n');
}

/** `params   day = "2026-11-30" (date, from --set)`, one line a param, in declaration order. */
export function paramLines({ params }: Pick<Plan, 'params'>): string[] {
  return Object.entries(params.values).map(
    ([name, value], i) => `${i === 0 ? 'params  ' : '        '} ${name} = ${JSON.stringify(value)} (${params.types[name]}, from ${params.from[name]})`,
  );
}

function fileLines(files: string[]): string[] {
  return [...files.slice(0, 5).map((f) => `           ${f}`), ...(files.length > 5 ? [`           … and ${files.length - 5} more`] : [])];
}

function sinkLine({ sink }: Plan): string {
  return `sink     ${sink.format} → ${sink.path}${sink.partitionBy ? ` partitioned by ${sink.partitionBy.join(', ')}` : ''} (mode ${sink.mode ?? SINK_MODE}, written to a temporary sibling and renamed on success)`;
}
