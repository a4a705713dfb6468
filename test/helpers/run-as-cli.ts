/**
 * A run through `run()` in the test's own process (test/helpers/in-process-run.ts), seen the
 * way a test sees `sluice run --quiet --report <file>`: for tests whose subject is what the
 * engine does when it fails (the error's text, the report, what is left), where a CLI child
 * would cost ~0.5 CPU-s of start-up per run. The mapping is the CLI's own (src/cli/main.ts):
 * a run that rejects exits 1 and prints `sluice: <its message>` (here `said`: the message),
 * one that resolves exits 0; the report is the one run() resolved with or attached to its error. Not for a stage that
 * ends or hangs its process (an inline process.exit, an uncaught error from an inline timer):
 * those stay CLI runs (test/helpers/cli.ts).
 */
import type { RunReport } from '../../src/runtime/types';
import { runInProcess } from './in-process-run';

export interface RunAsCli {
  /** 1: run() rejected; 0: it resolved. */
  code: 0 | 1;
  /** The error's message (what the CLI prints after `sluice: `) and the lines logged at level error. */
  said: string;
  report: RunReport | undefined;
}

export async function runAsCli(configFile: string): Promise<RunAsCli> {
  const o = await runInProcess(configFile);
  const said = [...(o.error ? [o.error.message] : []), ...o.logged];
  return { code: o.error ? 1 : 0, said: said.join('\n'), report: o.report };
}
