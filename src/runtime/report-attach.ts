/** A failed run's report travels on the error it threw (the CLI still prints it, `--report` still writes it). */
import type { RunReport } from './types';

const REPORT = Symbol.for('sluice.runReport');

/** The report of a failed run, attached to the error `runPlan` threw. */
export function reportOf(err: unknown): RunReport | undefined {
  return (err as { [REPORT]?: RunReport } | null)?.[REPORT];
}

/** Marks `report` failed with `err` (its code and message) and attaches it to the error. */
export function attachFailure(err: unknown, report: RunReport): void {
  report.ok = false;
  const code = (err as { code?: unknown })?.code;
  report.error = { code: typeof code === 'string' ? code : 'SLUICE_INTERNAL', message: (err as Error)?.message ?? String(err) };
  if (err && typeof err === 'object') Object.defineProperty(err, REPORT, { value: report, enumerable: false });
}
