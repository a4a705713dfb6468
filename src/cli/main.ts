/**
 * The `sluice` command: run, validate, explain. Returns the exit code (0 only on success).
 */
import { writeFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { resolveConfig, type ResolvedConfig } from '../config';
import { expandInputs } from '../config/files';
import { SluiceError } from '../errors';
import { createRootLogger } from '../log';
import { buildPlan } from '../plan/build';
import { renderPlan } from '../plan/explain';
import { planWarnings } from '../plan/warnings';
import { profilePlan } from '../runtime/profile';
import { reportOf, runPlan } from '../runtime/run';
import type { RunReport } from '../runtime/types';
import { renderProfile } from './profile';
import { ProgressDisplay } from './progress';
import { renderReport } from './report';

class UsageError extends Error {}

interface Common {
  config: string;
  mode?: string[];
  concurrency?: string[];
  'sink-path'?: string;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const parser = yargs(argv)
    .scriptName('sluice')
    .usage('$0 <command> [config]')
    .command<Common & { report?: string; 'log-level': string; quiet: boolean }>(
      'run [config]',
      'run a pipeline',
      (y) => withCommon(y).option('report', { type: 'string', describe: 'write the run report as JSON (also on failure)' }).option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] }).option('quiet', { type: 'boolean', default: false, describe: 'no progress display or summary' }),
      async (args) => {
        code = await run(args);
      },
    )
    .command<Common>('validate [config]', 'check a config: every problem with its path', withCommon, async (args) => {
      code = await guard(async () => {
        const r = await resolve(args);
        process.stdout.write(`✔ config valid: ${r.config.name}, ${r.config.stages.length} stage(s)\n`);
      });
    })
    .command<Common & { profile: boolean; batches: number }>(
      'explain [config]',
      'print the resolved plan: stages, modes, copies, channels, memory bound',
      (y) =>
        withCommon(y)
          .option('profile', { type: 'boolean', default: false, describe: 'run a few batches through each stage and recommend a mode and concurrency' })
          .option('batches', { type: 'number', default: 4, describe: 'batches sampled by --profile' }),
      async (args) => {
        code = await guard(async () => {
          const r = await resolve(args);
          const plan = buildPlan(r.config, r);
          process.stdout.write(renderPlan(plan, expandInputs(r.config.source.path, r.baseDir)) + '\n');
          if (args.profile) {
            const profile = await profilePlan(plan, { log: createRootLogger({ level: 'warn' }), batches: args.batches });
            process.stdout.write('\n' + renderProfile(profile) + '\n');
          }
        });
      },
    )
    .demandCommand(1, 'name a command: run, validate or explain')
    .strict()
    .help()
    .fail((msg, err, y) => {
      if (err) throw err;
      // Throwing stops yargs before any command handler runs.
      throw new UsageError(`${y.help()}\n\n${msg}`);
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  return code;
}

function withCommon<T>(y: Argv<T>) {
  return y
    .positional('config', { type: 'string', default: 'pipeline.config.ts', describe: 'pipeline config file' })
    .option('mode', { type: 'string', array: true, describe: 'override a stage mode: <stage>=<inline|thread|process> (repeatable)' })
    .option('concurrency', { type: 'string', array: true, describe: 'override a stage’s copies: <stage>=<n> (repeatable)' })
    .option('sink-path', { type: 'string', describe: 'write the output to this path instead' });
}

function resolve(args: Common): Promise<ResolvedConfig> {
  return resolveConfig(args.config, { mode: args.mode, concurrency: args.concurrency, sinkPath: args['sink-path'] });
}

/** Print a failure the way users need it: SluiceErrors by message, anything else with its stack. */
async function guard(work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return 0;
  } catch (err) {
    printError(err);
    return 1;
  }
}

function printError(err: unknown, verbose = false): void {
  if (err instanceof SluiceError && !verbose) process.stderr.write(`sluice: ${err.message}\n`);
  else process.stderr.write(`sluice: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
}

async function run(args: Common & { report?: string; 'log-level': string; quiet: boolean }): Promise<number> {
  const log = createRootLogger({ level: args['log-level'] });
  let resolved: ResolvedConfig;
  try {
    resolved = await resolve(args);
  } catch (err) {
    printError(err);
    return 1;
  }
  const plan = buildPlan(resolved.config, resolved);
  for (const warning of planWarnings(plan)) log.warn(warning);
  const controller = new AbortController();
  let signalCode = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signalCode = signal === 'SIGINT' ? 130 : 143;
    controller.abort(signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const display = process.stderr.isTTY && !args.quiet ? new ProgressDisplay(process.stderr) : undefined;
  let report: RunReport | undefined;
  try {
    report = await runPlan(plan, { log, signal: controller.signal, onProgress: display && ((s) => display.update(s)) });
    display?.clear();
    if (!args.quiet) process.stderr.write(renderReport(report) + '\n');
    return 0;
  } catch (err) {
    display?.clear();
    report = reportOf(err);
    printError(err, args['log-level'] === 'debug' || args['log-level'] === 'trace');
    return signalCode || 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (args.report && report) writeFileSync(args.report, JSON.stringify(report, null, 2) + '\n');
  }
}
