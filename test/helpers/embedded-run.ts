/**
 * A whole run inside the test's own process, through the public `run()` (src/index.ts: the
 * config file loaded and checked, the plan built, the copies started early, runPlan), for
 * tests about what a run does, not the command around it. Measured, a `sluice run` child costs
 * ~0.6-1 CPU-s (node, the built CLI, the config through the TS loader) before its run starts;
 * here the engine is loaded once per test file, and the run's thread and process copies start
 * from dist/ when it is current (SLUICE_TEST_BUILT_COPIES, jest.config.js), as the CLI's do.
 * What differs from `sluice run` is the CLI's own part: flags, the printed error, the exit
 * code, the death watch, the report file; tests about those stay on test/helpers/cli.ts.
 */
import pino from 'pino';
import { run } from '../../src/index';
import type { RunReport } from '../../src/runtime/types';

export type RunSettings = NonNullable<Parameters<typeof run>[1]>;

/** The run's report, or the error it failed with (never both), and the lines it logged (JSON, level info and up). */
export type EmbeddedResult = ({ report: RunReport; error: undefined } | { report: undefined; error: Error }) & { logs: string[] };

/** Runs `config` (a pipeline.config.ts) with `settings` (run()'s: units, set, sourcePath, …); its log lines are kept, not printed. */
export async function runEmbedded(config: string, settings: RunSettings = {}): Promise<EmbeddedResult> {
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  try {
    return { report: await run(config, { log, ...settings }), error: undefined, logs };
  } catch (error) {
    return { report: undefined, error: error as Error, logs };
  }
}

/** The report of a run that must succeed: its error (message and cause) fails the test as it is. */
export async function runEmbeddedOk(config: string, settings: RunSettings = {}): Promise<RunReport> {
  const r = await runEmbedded(config, settings);
  if (r.error) throw r.error;
  return r.report;
}

/** The lines of `logs` at level error or above: what `sluice run --log-level error` would print. */
export function errorsLogged(logs: string[]): string[] {
  return logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
}
