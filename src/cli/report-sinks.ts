import type { RunReport, SinkReport } from '../runtime/types';

/** A report's sinks: `sinks`, or the one `sink` of a report written before runs had several. */
export function sinksOf(r: Pick<RunReport, 'sink' | 'sinks'>): SinkReport[] {
  return r.sinks ?? [{ ...r.sink, name: r.sink.name ?? 'sink' }];
}

/** The rows every sink wrote, together. */
export function rowsWritten(r: Pick<RunReport, 'sink' | 'sinks'>): number {
  return sinksOf(r).reduce((n, s) => n + s.rows, 0);
}
