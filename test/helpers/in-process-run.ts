/**
 * A whole run inside the test's own process, through `run()` (src/index.ts: the checks, the
 * plan, the run, as `sluice run` makes them), for tests whose subject is the engine, not the
 * command around it. A CLI child costs about a second of CPU (node, the engine, the config and
 * stage modules) before it reads a row; here the engine is loaded once per test file, and the
 * run's thread and process copies start from dist/ when it is current (SLUICE_TEST_BUILT_COPIES,
 * jest.config.js), as a CLI run's do. What the CLI adds (exit codes, stderr, the --report file)
 * stays tested through the CLI in at least one cell of each test that moved here.
 *
 * Not for a stage that ends or hangs the process it runs in (an inline process.exit, a promise
 * that never settles: the run's stall detection is Node running out of work, which a jest
 * worker never does): those need a process of their own (test/helpers/cli.ts).
 *
 * Start and await these runs inside a test or a hook, never in the background across tests:
 * jest (30) refuses a `require` between tests ("outside of the scope of the test code"), and a
 * run loads its config and inline stages through jest's require. Runs several at once in one
 * beforeAll that awaits them all are fine.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { fairTimeout } from './fair-clock';
import { run } from '../../src/index';
import { reportOf } from '../../src/runtime/report-attach';
import type { RunReport } from '../../src/runtime/types';

export interface InProcessOutcome {
  /** The run's report: the resolved one, or the one a failed run attaches to its error. */
  report: RunReport | undefined;
  /** The error the run rejected with (undefined: it resolved). */
  error: Error | undefined;
  /** Log lines at `logLevel` or above (JSON, as the CLI writes them to stderr). */
  logged: string[];
}

/**
 * Runs `configFile` and never rejects: the outcome says how it ended. `logLevel` is what
 * `--log-level` would be (default 'error': `logged` empty is the CLI's empty stderr of a run
 * that succeeded with `--quiet --log-level error`). A run still going after `timeoutMs` of a
 * fair share of the CPU (test/helpers/fair-clock.cjs; default 60 s) is aborted as a hang: its
 * error then says so, instead of the test's timeout saying nothing.
 */
export async function runInProcess(configFile: string, opts: { logLevel?: pino.Level; timeoutMs?: number } = {}): Promise<InProcessOutcome> {
  const logged: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = pino({ level: opts.logLevel ?? 'error' }, sink);
  const limitMs = opts.timeoutMs ?? 60_000;
  const hang = new AbortController();
  const cancel = fairTimeout(limitMs, () => hang.abort(`hang: the run did not end within ${limitMs} ms of a fair share of the CPU`));
  try {
    const report = await run(configFile, { log, signal: hang.signal });
    return { report, error: undefined, logged };
  } catch (err) {
    return { report: reportOf(err), error: err as Error, logged };
  } finally {
    cancel();
  }
}
