/** A failed run's report travels on the error it threw (the CLI still prints it, `--report` still writes it). */
import type { RunReport } from './types';

const REPORT = Symbol.for('sluice.runReport');

/** The report of a failed run, attached to the error `runPlan` threw. */
export function reportOf(err: unknown): RunReport | undefined {
  return (err as { [REPORT]?: RunReport } | null)?.[REPORT];
}

export function attachReport(err: unknown, report: RunReport): void {
  if (err && typeof err === 'object') Object.defineProperty(err, REPORT, { value: report, enumerable: false });
}
