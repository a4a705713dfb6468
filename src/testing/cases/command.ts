/**
 * `sluice test [config]`: the cases beside a pipeline, each reported with ✔ or ✖ and, on
 * failure, the diff or the stage's error. Returns the exit code: 0 only if every case passed.
 */
import path from 'node:path';
import { loadWithOverrides, type Overrides } from '../../config';
import { computeFromParams } from '../../config/from-params';
import { resolveParams } from '../../config/params';
import { schemaIssues } from '../../config/validate';
import type { StageMode } from '../../config/types';
import { ConfigError } from '../../errors';
import { buildPlan } from '../../plan/build';
import { findCasesFile, loadCases } from './load';
import { runCase, type CaseOutcome } from './run';

export interface TestCommandArgs extends Overrides {
  config: string;
  /** A cases file other than the one beside the config. */
  cases?: string;
  /** Run every case in each of the three modes. */
  everyMode?: boolean;
}

const MODES: StageMode[] = ['inline', 'thread', 'process'];

export async function testCommand(args: TestCommandArgs, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  // The source's files are not read (cases bring their own rows): only the shape is checked.
  // The config is the one that runs at night: params with their defaults and --set, paths
  // that are functions of them computed, as run does.
  const loaded = await loadWithOverrides(args.config, { mode: args.mode, concurrency: args.concurrency });
  const resolved = resolveParams((loaded.raw as { params?: unknown } | null)?.params, args.set);
  const computed = await computeFromParams(loaded.raw, resolved.params);
  const { config, issues } = schemaIssues(computed.config);
  const all = [...loaded.overrideIssues, ...resolved.issues, ...computed.issues, ...issues];
  if (!config || all.length) throw new ConfigError(all, loaded.file);
  // Unfused: a case names a stage the user wrote, and fusing adjacent stages (an execution
  // detail that never changes the output: test/e2e/fusion.test.ts) would hide it in a group.
  const built = buildPlan(config, { ...loaded, params: resolved.params, fuse: false });
  // The stages the user wrote: sluice's own (Parquet encoding before a Parquet sink, routing
  // to partitions before a partitioned one) are not theirs to test and have no module.
  const plan = { ...built, stages: built.stages.filter((s) => !s.encode && !s.partition) };
  const casesFile = args.cases ? path.resolve(args.cases) : findCasesFile(loaded.file);
  const cases = await loadCases(casesFile, plan.stages.map((s) => s.name));

  out.write(`sluice test: ${cases.length} case${cases.length === 1 ? '' : 's'} from ${path.relative(process.cwd(), casesFile) || casesFile} (pipeline "${plan.name}")\n`);
  const outcomes: CaseOutcome[] = [];
  for (const c of cases) {
    for (const mode of args.everyMode ? MODES : [undefined]) {
      const outcome = await runCase(c, { stages: plan.stages, sourceSchema: config.source.schema, mode });
      outcomes.push(outcome);
      out.write(`  ${outcome.ok ? '✔' : '✖'} ${outcome.name}  [${outcome.target}]\n`);
      if (outcome.detail) out.write(indent(outcome.detail, '      ') + '\n');
    }
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  out.write(`${outcomes.length - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}
