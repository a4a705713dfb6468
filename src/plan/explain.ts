/** The resolved plan as text: what will run where, and how much memory it may hold. */
import type { Plan } from './types';
import { DEFAULTS, slotsPerCopy } from './build';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;

export function renderPlan(plan: Plan, files: string[]): string {
  const src = plan.source;
  const lines = [
    `pipeline ${plan.name}${plan.configFile ? `  (${plan.configFile})` : ''}`,
    `source   ${src.format}, ${files.length} file(s), ${src.batchRows.toLocaleString('en-US')} rows per batch, ${src.thread ? `read on a thread of its own (${DEFAULTS.sourceReadAhead} batches ahead)` : 'read on the main thread'}`,
    ...files.slice(0, 5).map((f) => `           ${f}`),
    ...(files.length > 5 ? [`           … and ${files.length - 5} more`] : []),
    `  ↓ channel: ${plan.sourceOutput.capacity} batches, ${mib(plan.sourceOutput.capacityBytes)}`,
  ];
  for (const s of plan.stages) {
    const slots = s.copies * slotsPerCopy(s.mode);
    lines.push(`stage    ${s.name}: ${s.mode} × ${s.copies} (up to ${slots} batch${slots === 1 ? '' : 'es'} in flight)  ${s.modulePath}`);
    lines.push(`  ↓ channel: ${s.output.capacity} batches, ${mib(s.output.capacityBytes)}`);
  }
  const sink = plan.sink;
  lines.push(
    `sink     ${sink.format} → ${sink.path}${sink.partitionBy ? ` partitioned by ${sink.partitionBy.join(', ')}` : ''} (mode ${sink.mode ?? 'overwrite'}, written to a temporary sibling and renamed on success)`,
    `order    ${plan.ordered ? 'ordered: output keeps input order (reorder buffer bounded by the channels)' : 'unordered: batches pass as they finish'}`,
    `memory   batch memory is bounded by ${mib(plan.memoryBoundBytes)}: ${src.thread ? 'the source read-ahead + ' : ''}every channel at its byte cap + each in-flight task's input (one batch per slot)`,
  );
  return lines.join('\n');
}
