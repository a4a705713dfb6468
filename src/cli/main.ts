/**
 * The `sluice` command: run, validate, explain, test, recover. Returns the exit code (0 only on success).
 */
import '../arrow-bundle'; // first: every apache-arrow of this process is the one bundled file
import type { Argv } from 'yargs';
import { yargs } from './yargs';
import type { CheckedConfig, CheckOptions } from '../check';
import { SluiceError } from '../errors';
import { SIGNAL_EXIT, failedRunExitCode } from './exit-code';
import { outputFileProblem } from './output-files';
import type { InspectArgs } from './inspect-options';
import type { RunReport } from '../runtime/types';
import type { EarlyStart as EarlyStartT } from '../runtime/early-start';
import type { DeathWatch } from './death-watch';
import type { Plan } from '../plan/types';
import { safeBlock } from './terminal-text';

/**
 * Everything the commands print goes through here: plans, reports and error messages quote
 * names and values from configs and data, shown terminal-safe (terminal-text.ts).
 */
function writeSafe(stream: NodeJS.WriteStream, text: string): void {
  stream.write(safeBlock(text));
}

/*
 * Each command loads what it needs when its handler runs, never at the top of this file:
 * `--help` must not pay for the engine (arrow, polars, the pools: ~1 s). `require`, as in
 * index.ts's run(): a CommonJS module's `import()` would be a real ESM import.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
function planning() {
  const { buildPlan, withProjection, withDeclarations } = require('../plan/build') as typeof import('../plan/build');
  const { paramLines, renderPlan } = require('../plan/explain') as typeof import('../plan/explain');
  const { planWarnings, renderWarnings } = require('../plan/warnings') as typeof import('../plan/warnings');
  const { expandInputs } = require('../config/files') as typeof import('../config/files');
  return { buildPlan, withProjection, withDeclarations, paramLines, renderPlan, planWarnings, renderWarnings, expandInputs };
}

function engine() {
  const { createRootLogger } = require('../log') as typeof import('../log');
  const { reportOf, runPlan } = require('../runtime/run') as typeof import('../runtime/run');
  const { EarlyStart } = require('../runtime/early-start') as typeof import('../runtime/early-start');
  const { ProgressDisplay } = require('./progress') as typeof import('./progress');
  const { renderReport } = require('./report') as typeof import('./report');
  const { startDeathWatch } = require('./death-watch') as typeof import('./death-watch');
  return { createRootLogger, reportOf, runPlan, EarlyStart, ProgressDisplay, renderReport, startDeathWatch };
}

/** `explain --profile` only: its sampler loads every executor (a run loads those it starts). */
function profiling() {
  const { profilePlan } = require('../runtime/profile') as typeof import('../runtime/profile');
  const { renderProfile } = require('./profile') as typeof import('./profile');
  return { profilePlan, renderProfile };
}

/** Only a run given --report or --metrics writes those (the HTML page's code is ~10 ms to load). */
const reportFile = () => (require('./report-html') as typeof import('./report-html')).writeRunReport;
const metricsFile = () => require('./metrics-file') as typeof import('./metrics-file');
/* eslint-enable @typescript-eslint/no-require-imports */

class UsageError extends Error {}
/** Failing cases were already reported case by case: only the exit code is left to set. */
class CasesFailed extends Error {}

type RunArgs = Common & { report?: string; metrics?: string; 'log-level': string; quiet: boolean; resume: boolean; restart: boolean; full: boolean; cluster?: string; 'run-id'?: string; attempts: number; 'lock-duration': string; 'worker-concurrency': number; 'warm-workers': boolean };

interface Common {
  config: string;
  mode?: string[];
  concurrency?: string[];
  'sink-path'?: string;
  'source-path'?: string[];
  set?: string[];
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const parser = yargs(argv)
    .scriptName('sluice')
    .usage('$0 <command> [config]')
    .command<RunArgs>(
      'run [config]',
      'run a pipeline',
      (y) => withCommon(y).option('report', { type: 'string', describe: 'write the run report (also on failure): a self-contained page if the name ends in .html, else JSON' })
        .option('metrics', { type: 'string', describe: 'write the run’s numbers as OpenMetrics text (also on failure), for node_exporter’s textfile collector' }).option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] }).option('quiet', { type: 'boolean', default: false, describe: 'no progress display or summary' })
        .option('resume', { type: 'boolean', default: false, describe: 'continue a resumable run that failed or was killed: the input files whose units it committed are not read again (refused if the config, a stage module or an input changed); starts one if there is none' })
        .option('restart', { type: 'boolean', default: false, describe: 'discard what a failed resumable run staged and start it again' })
        .option('full', { type: 'boolean', default: false, describe: 'an incremental run (source.incremental): read every input file, not only the new ones, and replace the outputs and their state' })
        .option('cluster', { type: 'string', describe: 'run on many machines through BullMQ on Redis: redis://host:port, rediss://… (TLS), unix:///path/redis.sock, or local:N (a private redis-server and N workers here)' })
        .option('run-id', { type: 'string', describe: 'with --cluster: the run\'s id; a driver started again with the same id re-attaches to the run in Redis (finished units are not redone)' })
        .option('attempts', { type: 'number', default: 3, describe: 'with --cluster: attempts per unit before the run fails (a data error fails at once)' })
        .option('lock-duration', { type: 'string', default: '30s', describe: 'with --cluster local: how long a unit\'s lock lasts unrenewed, i.e. how soon a dead worker\'s unit runs elsewhere' })
        .option('worker-concurrency', { type: 'number', default: 1, describe: 'with --cluster local: units each local worker runs at once' })
        .option('warm-workers', { type: 'boolean', default: true, describe: 'with --cluster local: workers keep a run\'s copies warm across its units (--no-warm-workers starts every unit cold, to measure)' })
        .check((a) => {
          if (a.resume && a.restart) throw new Error('--resume and --restart exclude each other: --resume continues a failed run, --restart discards it');
          if (a.cluster !== undefined && (a.resume || a.restart)) throw new Error('--cluster runs are resumed by starting the driver again with the same --run-id, not with --resume or --restart');
          if (a.cluster === undefined && a['run-id'] !== undefined) throw new Error('--run-id names a --cluster run: give --cluster too');
          return true;
        }),
      async (args) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning(): an embedded run never loads bullmq
        code = args.cluster !== undefined ? await (require('./cluster') as typeof import('./cluster')).clusterRun(args) : await run(args);
      },
    )
    .command<{ cluster: string; concurrency: number; 'lock-duration': string; 'log-level': string; warm: boolean }>(
      'worker',
      'take the units of cluster runs from Redis and run them here (sluice run --cluster starts the runs)',
      (y) =>
        y
          .option('cluster', { type: 'string', demandOption: true, describe: 'the Redis of the runs: redis://host:port, rediss://… (TLS), unix:///path/redis.sock' })
          .option('concurrency', { type: 'number', default: 1, describe: 'units run at once in this process' })
          .option('warm', { type: 'boolean', default: true, describe: 'keep a run\'s thread and process copies (and Parquet encoder threads) running from one of its units to the next; --no-warm starts every unit cold' })
          .option('lock-duration', { type: 'string', default: '30s', describe: 'how long a unit\'s lock lasts unrenewed: if this worker dies, its unit runs elsewhere after about twice this' })
          .option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] }),
      async (args) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
        code = await (require('./cluster') as typeof import('./cluster')).workerCommand(args);
      },
    )
    .command<Common>('validate [config]', 'check a config: every problem with its path', withCommon, async (args) => {
      code = await guard(async () => {
        const { buildPlan, paramLines, planWarnings, renderWarnings } = planning();
        const r = await resolve(args);
        writeSafe(process.stdout, `✔ config valid: ${r.config.name}, ${r.config.stages.length} stage(s)\n`);
        const params = paramLines(r);
        if (params.length) writeSafe(process.stdout, params.join('\n') + '\n');
        // What could not be checked before a run, so that silence means checked.
        for (const note of r.notes) writeSafe(process.stdout, `ℹ ${note.path}: ${note.message}\n`);
        const warnings = planWarnings(buildPlan(r.config, r), { sourceColumns: r.sourceColumns?.names });
        if (warnings.length) writeSafe(process.stdout, renderWarnings(warnings) + '\n');
      });
    })
    .command<Common & { profile: boolean; batches: number; format: 'text' | 'mermaid' | 'dot' }>(
      'explain [config]',
      'print the resolved plan: stages, modes, copies, channels, memory bound',
      (y) =>
        withCommon(y)
          .option('format', { choices: ['text', 'mermaid', 'dot'] as const, default: 'text' as const, describe: 'text, or the graph alone as Mermaid or Graphviz (dot)' })
          .option('profile', { type: 'boolean', default: false, describe: 'run a few batches through each stage and recommend a mode and concurrency' })
          .option('batches', { type: 'number', default: 4, describe: 'batches sampled by --profile' }),
      async (args) => {
        code = await guard(async () => {
          const { buildPlan, withProjection, withDeclarations, renderPlan, planWarnings, renderWarnings, expandInputs } = planning();
          const r = await resolve(args);
          const plan = withDeclarations(buildPlan(r.config, r), r);
          if (args.format !== 'text') {
            const { renderDot, renderMermaid } = require('../plan/graph-shape') as typeof import('../plan/graph-shape'); // eslint-disable-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
            writeSafe(process.stdout, (args.format === 'dot' ? renderDot(plan) : renderMermaid(plan)) + '\n');
            return;
          }
          writeSafe(process.stdout, renderPlan(plan, expandInputs(r.config.source.path, r.baseDir)) + '\n');
          const units = plan.units ? await refuseUncutUnits(plan) : undefined;
          if (units) writeSafe(process.stdout, units + '\n');
          const warnings = planWarnings(plan, { sourceColumns: r.sourceColumns?.names });
          if (warnings.length) writeSafe(process.stdout, '\n' + renderWarnings(warnings) + '\n');
          if (args.profile) {
            const { createRootLogger } = engine();
            const { profilePlan, renderProfile } = profiling();
            // Each stage measured on its own, fused or not: the advice is per stage.
            const profile = await profilePlan(withProjection(buildPlan(r.config, { ...r, fuse: false }), r.projection), { log: createRootLogger({ level: 'warn' }), batches: args.batches });
            writeSafe(process.stdout, '\n' + renderProfile(profile) + '\n');
          }
        });
      },
    )
    .command<InspectArgs>(
      'inspect [paths..]',
      'show what a source would read: schema (and why each CSV type), rows, Parquet row groups, first rows',
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
      (y) => (require('./inspect-options') as typeof import('./inspect-options')).inspectOptions(y),
      async (args) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
        code = await (require('./inspect') as typeof import('./inspect')).inspectCommand(args);
      },
    )
    .command<{ dir: string; sluice?: string }>(
      'init [dir]',
      'scaffold a project that runs at once: package.json, tsconfig.json, a pipeline and its cases, a stage and its test, sample data',
      (y) =>
        y
          .positional('dir', { type: 'string', default: '.', describe: 'folder to create it in (never overwrites a file)' })
          .option('sluice', { type: 'string', describe: 'what the project installs sluice from: a packed tarball (npm pack), a git URL or a version range (default: ^<this version>; sluice is not on the npm registry yet)' }),
      (args) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
        code = (require('./init') as typeof import('./init')).initCommand(args);
      },
    )
    .command<Common & { cases?: string; 'every-mode': boolean; set?: string[] }>(
      'test [config]',
      'run the fixture cases beside a pipeline (pipeline.cases.ts): input rows → expected rows, per stage or for the whole pipeline',
      (y) =>
        y
          .positional('config', { type: 'string', default: 'pipeline.config.ts', describe: 'pipeline config file' })
          .option('mode', { type: 'string', array: true, describe: 'override a stage mode: <stage>=<inline|thread|process> (repeatable)' })
          .option('set', { type: 'string', array: true, nargs: 1, describe: 'set a param of the config: <param>=<value> (repeatable; the rest keep their defaults, as in a run)' })
          .option('cases', { type: 'string', describe: 'the cases file (default: <config name>.cases.ts/.json beside the config)' })
          .option('every-mode', { type: 'boolean', default: false, describe: 'run every case with all stages inline, then thread, then process' }),
      async (args) => {
        code = await guard(async () => {
          // Loaded on use: the harness pulls in the executors, which --help does not need.
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
          const { testCommand } = require('../testing/cases/command') as typeof import('../testing/cases/command');
          // Case names and the differences it shows quote data: terminal-safe, as everything printed.
          const out = { write: (text: string) => (writeSafe(process.stdout, text), true) } as unknown as NodeJS.WritableStream;
          const failed = await testCommand({ config: args.config, cases: args.cases, everyMode: args['every-mode'], mode: args.mode, set: args.set }, out);
          if (failed) throw new CasesFailed();
        });
      },
    )
    .command<Common>(
      'recover [config]',
      'finish or undo what a killed run left at the sink paths: roll a half-published commit forward from its journal, put a moved-aside output back, remove dead runs’ temporaries',
      (y) =>
        y
          .positional('config', { type: 'string', default: 'pipeline.config.ts', describe: 'pipeline config file' })
          .option('sink-path', { type: 'string', describe: 'recover this path instead of sink.path' })
          .option('set', { type: 'string', array: true, nargs: 1, describe: 'set a param of the config: <param>=<value> (repeatable; for sink paths computed from params)' }),
      async (args) => {
        code = await guard(async () => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
          const lines = await (require('./recover') as typeof import('./recover')).recoverCommand(args);
          writeSafe(process.stdout, lines.join('\n') + '\n');
        });
      },
    )
    .command<{ cluster: string; 'run-id'?: string; json: boolean }>(
      'status',
      'the cluster runs in a Redis, or one run\'s units: state, attempts, worker, why one failed',
      (y) =>
        y
          .option('cluster', { type: 'string', demandOption: true, describe: 'the Redis of the runs: redis://host:port, rediss://… (TLS), unix:///path/redis.sock' })
          .option('run-id', { type: 'string', describe: 'the run to show (default: list the runs)' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
      async (args) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
        code = await (require('./cluster') as typeof import('./cluster')).statusCommand(args);
      },
    )
    .command<{ cluster: string; 'run-id': string }>(
      'cancel',
      'cancel a cluster run: its waiting units and its commit job are removed, its staging too; nothing is committed',
      (y) =>
        y
          .option('cluster', { type: 'string', demandOption: true, describe: 'the Redis of the run' })
          .option('run-id', { type: 'string', demandOption: true, describe: 'the run to cancel' }),
      async (args) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
        code = await (require('./cluster') as typeof import('./cluster')).cancelCommand(args);
      },
    )
    .demandCommand(1, 'name a command: run, validate, explain, inspect, test, init, recover, worker, status or cancel')
    .strict()
    .help()
    // yargs would end the process itself after --help and --version: let the command return,
    // so an exit(0) nobody asked for (cutShort, below) is the only one that means "cut short".
    .exitProcess(false)
    .fail((msg, err, y) => {
      if (err) throw err;
      // Throwing stops yargs before any command handler runs.
      throw new UsageError(`${y.help()}\n\n${msg}`);
    });
  // Last resort for a process.exit() no guard can stop (a timer a config or stage module set
  // while loading, firing later): a command cut short never exits 0, and says so.
  let finished = false;
  const cutShort = (exitCode: number) => {
    if (finished || exitCode !== 0 || process.exitCode) return;
    process.exitCode = EXIT_CUT_SHORT;
    process.stderr.write(`sluice: something called process.exit(0) before \`sluice ${argv[0] ?? ''}\` finished (a timer a config or stage module set?): the command did not finish\n`);
  };
  process.on('exit', cutShort);
  try {
    await parser.parseAsync();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    writeSafe(process.stderr, `${err.message}\n`);
    return 1;
  } finally {
    finished = true;
    process.off('exit', cutShort);
  }
  return code;
}

/** A command cut short by an exit it did not ask for (sysexits EX_SOFTWARE, as runtime/guard.ts). */
const EXIT_CUT_SHORT = 70;

function withCommon<T>(y: Argv<T>) {
  return y
    .positional('config', { type: 'string', default: 'pipeline.config.ts', describe: 'pipeline config file' })
    .option('mode', { type: 'string', array: true, describe: 'override a stage mode: <stage>=<inline|thread|process> (repeatable)' })
    .option('concurrency', { type: 'string', array: true, describe: 'override a stage’s copies: <stage>=<n> (repeatable)' })
    .option('sink-path', { type: 'string', array: true, nargs: 1, describe: 'write the output to this path instead; with several sinks: <sink>=<path> (repeatable)' })
    .option('source-path', { type: 'string', array: true, nargs: 1, describe: 'read this file or glob instead of source.path (repeatable: a list)' })
    .option('set', { type: 'string', array: true, nargs: 1, describe: 'set a param of the config: <param>=<value> (repeatable)' });
}

/**
 * A resumable run stages each unit's output, and the stages from the first one with flush()
 * (state across units, e.g. an aggregate) on run live in a fresh run, or over the staged units
 * at the commit of a resumed one, unless that stage has combine() and stages its per-unit
 * partials instead (runtime/unit-cut.ts, unit-partials.ts). A graph those cannot be cut in
 * (stateful stages reading several places) is refused before anything starts. Returns
 * `explain`'s words for the way it will run (undefined: no stage keeps state).
 */
async function refuseUncutUnits(plan: Plan): Promise<string | undefined> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
  const { loadStageDefinition } = require('../worker/load') as typeof import('../worker/load');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
  const { cutAtState, unitStateOf, unitStateWords } = require('../runtime/unit-cut') as typeof import('../runtime/unit-cut');
  const stateful: boolean[] = [];
  const combines: boolean[] = [];
  for (const stage of plan.stages) {
    let keeps = false;
    for (const m of [stage, ...(stage.fused ?? [])]) if (m.modulePath && typeof (await loadStageDefinition(m.modulePath)).flush === 'function') keeps = true;
    stateful.push(keeps);
    combines.push(!stage.fused && !!stage.modulePath && typeof (await loadStageDefinition(stage.modulePath)).combine === 'function');
  }
  const cut = cutAtState(plan, stateful);
  return unitStateWords(plan, cut, cut && unitStateOf(plan, cut, combines));
}

/** Load, override and check everything knowable before a run (check/): every command does the same. */
function resolve(args: Common, readErrors = true, onConfig?: CheckOptions['onConfig']): Promise<CheckedConfig> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see planning()
  const { resolveChecked } = require('../check') as typeof import('../check');
  const overrides = { mode: args.mode, concurrency: args.concurrency, sinkPath: args['sink-path'], sourcePath: args['source-path'], set: args.set };
  return resolveChecked(args.config, overrides, { readErrors, onConfig });
}

/** Print a failure the way users need it: SluiceErrors by message, anything else with its stack. */
async function guard(work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return 0;
  } catch (err) {
    if (!(err instanceof CasesFailed)) printError(err);
    return 1;
  }
}

function printError(err: unknown, verbose = false): void {
  if (err instanceof SluiceError && !verbose) writeSafe(process.stderr, `sluice: ${err.message}\n`);
  else writeSafe(process.stderr, `sluice: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
}

/** Write a --report or --metrics file; a failure to write is said (and fails the command), not thrown over the run's own error. */
function writeOutput(what: string, file: string, write: (file: string) => void): boolean {
  try {
    write(file);
    return true;
  } catch (err) {
    writeSafe(process.stderr, `sluice: cannot write the ${what} file ${file}: ${(err as Error).message}\n`);
    return false;
  }
}


async function run(args: RunArgs): Promise<number> {
  // Where the report and metrics go is checked before anything runs (output-files.ts).
  for (const [what, file] of [['report', args.report], ['metrics', args.metrics]] as const) {
    const problem = file === undefined ? undefined : outputFileProblem(file);
    if (problem) {
      process.stderr.write(`sluice: cannot write the ${what} file ${file}: ${problem}; nothing was run\n`);
      return 1;
    }
  }
  // Signals are caught from the first moment: one that arrives while the config or a stage
  // module is still loading must stop the run before it starts, not be ignored.
  const controller = new AbortController();
  let signalCode = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal while the abort cleans up: the user wants out now. What is left (a
    // hidden temporary, the lock) is removed by the next run on that sink path.
    if (controller.signal.aborted) {
      writeSafe(process.stderr, `sluice: ${signal} again: exiting now without cleaning up (the next run removes what is left)\n`);
      process.exit(signalCode);
    }
    signalCode ||= SIGNAL_EXIT[signal] ?? 1;
    controller.abort(signal);
  };
  for (const signal of Object.keys(SIGNAL_EXIT)) process.on(signal, onSignal);
  const { buildPlan, withDeclarations, planWarnings } = planning();
  const { createRootLogger, ProgressDisplay, startDeathWatch, runPlan, EarlyStart, renderReport, reportOf } = engine();
  const display = process.stderr.isTTY && !args.quiet ? new ProgressDisplay(process.stderr) : undefined;
  // Log lines go through the live display (it erases itself, the line is written, it redraws).
  const log = createRootLogger({ level: args['log-level'], ...(display && { around: (write: () => void) => display.around(write) }) });
  let report: RunReport | undefined;
  let pipeline: string | undefined;
  let code: number;
  let early: EarlyStartT | undefined;
  let watch: DeathWatch | undefined;
  try {
    // An unreadable source is left to the run, which reports it with its own error and report.
    // The stage copies start as soon as the config is valid, beside the slower checks.
    let plan: Plan | undefined;
    const resolved = await resolve(args, false, (valid) => {
      // --resume and --restart make the run resumable, whatever the config says.
      if (args.resume || args.restart) valid.config.resumable = true;
      plan = buildPlan(valid.config, valid);
      early = EarlyStart.begin(plan, { log });
      return early.launched();
    });
    plan = withDeclarations(plan ?? buildPlan(resolved.config, resolved), resolved);
    pipeline = plan.name;
    for (const w of planWarnings(plan, { sourceColumns: resolved.sourceColumns?.names })) log.warn({ path: w.path }, `${w.path}: ${w.message}`);
    if (plan.units) await refuseUncutUnits(plan);
    // An inline stage's timeout needs a watcher alive from the start (cli/watcher.cjs ends a run whose main thread is stuck past it).
    const deadlines = plan.stages.some((s) => s.timeoutMs !== undefined && s.mode !== 'thread' && s.mode !== 'process');
    watch = startDeathWatch({ report: args.report, metrics: args.metrics, pipeline: plan.name, params: plan.params.values, deadlines });
    const w = watch;
    report = await runPlan(plan, { log, signal: controller.signal, onProgress: display && ((s) => display.update(s)), onCommitting: (p) => w.committing(p), onCommitFailed: () => w.commitFailed(), onCommitted: (files) => w.committed(files), units: args.resume ? 'resume' : args.restart ? 'restart' : 'fresh', full: args.full }, early);
    display?.clear();
    if (!args.quiet) writeSafe(process.stderr, renderReport(report) + '\n');
    code = 0;
  } catch (err) {
    await early?.discard(); // the checks failed after the copies started (the run stops its own)
    display?.clear();
    report = reportOf(err);
    printError(err, args['log-level'] === 'debug' || args['log-level'] === 'trace');
    code = failedRunExitCode(err, signalCode);
  }
  // The handlers stay: a signal between the end of the run and the exit that follows must
  // not kill the process by default and turn a reported failure into a death by signal.
  const final = report;
  // Each file written is marked for the watcher, which then leaves it as the run wrote it.
  if (args.report && final) {
    if (!writeOutput('report', args.report, (file) => reportFile()(file, final, (tmp) => watch?.writing('report', tmp)))) code ||= 1;
  }
  if (args.metrics) {
    const { failedBeforeRun, writeMetricsFile } = metricsFile();
    if (!writeOutput('metrics', args.metrics, (file) => writeMetricsFile(file, final ?? failedBeforeRun(pipeline ?? args.config), (tmp) => watch?.writing('metrics', tmp)))) code ||= 1;
  }
  return code;
}
