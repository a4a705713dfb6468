/** The driver's live display of a cluster run (cluster/progress.ts): units and rows across workers, with an ETA. */
import type { ClusterProgress } from '../cluster/progress';
import { bytes, count, ms } from './format';

/** The display's lines for one poll (a pure function: tested on recorded polls). */
export function renderClusterProgress(p: ClusterProgress): string[] {
  const u = p.units;
  const head = [
    `units ${u.done}/${u.total} done, ${u.running} running, ${u.waiting} waiting${u.retried ? `, ${u.retried} retried` : ''}${u.failed ? `, ${u.failed} failed` : ''}`,
    ...(p.input.totalBytes > 0 ? [`${((Math.min(p.input.bytesRead, p.input.totalBytes) / p.input.totalBytes) * 100).toFixed(1)}% of ${bytes(p.input.totalBytes)} read`] : []),
    ...eta(p),
    `${ms(p.elapsedMs)} elapsed`,
  ].join('  ·  ');
  const secs = p.elapsedMs / 1000;
  const rows = `rows ${count(p.rows)} read${secs > 0 ? ` (${count(Math.round(p.rows / secs))} rows/s)` : ''} by ${p.workers.length} worker(s)`;
  const width = Math.max(0, ...p.workers.map((w) => w.name.length));
  const workers = p.workers.map((w) => `  ${w.name.padEnd(width)}  ${String(w.done).padStart(4)} done  ${w.running ? `${w.running} running` : '         '}  ${count(w.rows).padStart(12)} rows`.trimEnd());
  return [head, rows, ...workers];
}

/**
 * The time left at the rate so far: by input bytes when their size is known (units differ in
 * size), else by units; none before anything was read or once all is.
 */
function eta(p: ClusterProgress): string[] {
  const { bytesRead, totalBytes } = p.input;
  if (totalBytes > 0) {
    const read = Math.min(bytesRead, totalBytes);
    return read > 0 && read < totalBytes && p.elapsedMs > 0 ? [`ETA ${ms(((totalBytes - read) * p.elapsedMs) / read)}`] : [];
  }
  const { done, total } = p.units;
  return done > 0 && done < total && p.elapsedMs > 0 ? [`ETA ${ms(((total - done) * p.elapsedMs) / done)}`] : [];
}
