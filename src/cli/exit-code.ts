/** Exit codes of `sluice run`: what ended the run, as a shell or a scheduler reads it. */

/** After a signal: 128 + its number, as a shell reports a process it ended. */
export const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * The code of a failed run. A signal's code only when its abort was the failure: a run that
 * failed on its own (a stage error, a stall) and then got a signal while cleaning up exits 1,
 * so the code and the printed error tell the same story.
 */
export function failedRunExitCode(err: unknown, signalCode: number): number {
  const aborted = (err as { code?: unknown } | null | undefined)?.code === 'SLUICE_ABORTED';
  return aborted && signalCode ? signalCode : 1;
}
