/** A failed run's report travels on the error it threw (the CLI still prints it, `--report` still writes it). */
import { SourceError, StageError, WorkerExitError, isError } from '../errors';
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
  report.error = { code: typeof code === 'string' ? code : 'SLUICE_INTERNAL', message: (err as Error)?.message ?? String(err), ...whereOf(err) };
  if (err && typeof err === 'object') Object.defineProperty(err, REPORT, { value: report, enumerable: false });
}

/** The error's class and location as fields of their own, for scripts that read the report. */
function whereOf(err: unknown): Omit<NonNullable<RunReport['error']>, 'code' | 'message'> {
  const name = isError(err) ? { name: err.name } : {};
  if (err instanceof StageError || err instanceof WorkerExitError) {
    const { stage, copy, seq, sourceFile } = err.location;
    const phase = err instanceof StageError ? { phase: err.phase } : { exitCode: err.exitCode, signal: err.signal };
    return { ...name, stage, copy, batch: seq, sourceFile, ...phase };
  }
  if (err instanceof SourceError) return { ...name, file: err.file, line: err.line, column: err.column };
  return name;
}
