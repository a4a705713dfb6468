/**
 * sluice's plan inside the test's own process, for cells that check what `explain` (or
 * `inspect`) says, not the command around it: a CLI child costs ~1 s of CPU (node, the engine,
 * the config and stage modules) before it prints a line. Runs stay in CLI children (test/helpers/cli.ts): measured,
 * `run()` inside jest costs as much CPU as the CLI or more, since its thread and process copies
 * then load sluice from src/ through the TS loader, where the CLI's load the built dist/.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type Yargs from 'yargs';
import type { InspectArgs } from '../../src/cli/inspect-options';
import { resolveChecked } from '../../src/check';
import { expandInputs } from '../../src/config/files';
import { buildPlan, withDeclarations } from '../../src/plan/build';
import { renderPlan } from '../../src/plan/explain';
import { planWarnings, renderWarnings } from '../../src/plan/warnings';

/**
 * What `sluice explain <config>` prints (without --profile), made by the calls its handler in
 * src/cli/main.ts makes, in the same order (the CLI module itself cannot load under jest: yargs
 * is ES modules only). A config that fails its checks rejects with the ConfigError the CLI
 * would print.
 */
export async function explainInProcess(config: string): Promise<string> {
  const r = await resolveChecked(config);
  const plan = withDeclarations(buildPlan(r.config, r), r);
  const warnings = planWarnings(plan, { sourceColumns: r.sourceColumns?.names });
  return renderPlan(plan, expandInputs(r.config.source.path, r.baseDir)) + '\n' + (warnings.length ? '\n' + renderWarnings(warnings) + '\n' : '');
}

/** `{ code, stdout, stderr }` of a command run in this process, as runCli gives a child's. */
export interface InProcessResult {
  code: number;
  signal: null;
  stdout: string;
  stderr: string;
}

/**
 * `sluice inspect <args>` in this process, from `cwd`: the arguments parsed by the yargs the
 * built CLI loads (dist/vendor/yargs.cjs; the package itself is ES modules only, which jest
 * cannot load) with inspect's own option declarations (src/cli/inspect-options.ts), then its
 * handler (src/cli/inspect.ts), which writes to stdout and stderr and returns the exit code:
 * what src/cli/main.ts does for `inspect`, without a child that costs ~0.5 s of CPU to start.
 * Undefined when there is no build (no bundle to parse with): the caller then runs the CLI.
 * The working directory and the two streams are the process's own, so it is set and taken
 * for the call and given back after it; a test must not run two at once.
 */
export async function inspectInProcess(args: string[], cwd: string): Promise<InProcessResult | undefined> {
  const bundle = path.join(__dirname, '../../dist/vendor/yargs.cjs');
  if (!existsSync(bundle)) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports -- the built CLI's own yargs, found at run time; inspect's code loaded on use, as main.ts does */
  const yargs = (require(bundle) as { default: typeof Yargs }).default;
  const { inspectOptions } = require('../../src/cli/inspect-options') as typeof import('../../src/cli/inspect-options');
  const { inspectCommand } = require('../../src/cli/inspect') as typeof import('../../src/cli/inspect');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const out = { stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (to: 'stdout' | 'stderr') => ((chunk: string | Uint8Array) => ((out[to] += String(chunk)), true)) as typeof process.stdout.write;
  const was = process.cwd();
  let code = 0;
  process.chdir(cwd);
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    await yargs(['inspect', ...args])
      .command<InspectArgs>('inspect [paths..]', '', (y) => inspectOptions(y), async (a) => {
        code = await inspectCommand(a);
      })
      .strict()
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new Error(`sluice inspect: usage: ${msg}`);
      })
      .parseAsync();
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.chdir(was);
  }
  return { code, signal: null, ...out };
}
