/** `explain --profile` output: measured costs per stage and the recommendation. */
import type { PipelineProfile } from '../runtime/profile';
import { bytes, count, table } from './format';

const ms = (n: number) => (n >= 10 ? n.toFixed(0) : n.toFixed(2));

export function renderProfile(p: PipelineProfile): string {
  const rows = p.stages.map((s) => [
    s.name,
    `${s.mode} × ${s.copies}`,
    `${count(s.rowsPerBatch)} / ${bytes(s.bytesPerBatch)}`,
    ms(s.msPerBatch),
    s.cpuPerWall.toFixed(1),
    ms(s.threadHandoffMs),
    ms(s.processHandoffMs),
    `${s.advice.mode} × ${s.advice.concurrency}`,
  ]);
  const lines = [
    `profile: ${p.batches} batch(es) sampled; the source reads one in ${ms(p.sourceMsPerBatch)} ms; ${p.cores} cores`,
    table(['stage', 'configured', 'rows / bytes per batch', 'ms/batch', 'cores used', 'thread hand-off ms', 'process hand-off ms', 'recommended'], rows),
    ...p.stages.map((s) => `  ${s.name}: ${s.advice.mode} × ${s.advice.concurrency} — ${s.advice.reason}`),
  ];
  return lines.join('\n');
}
