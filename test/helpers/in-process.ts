/**
 * sluice's plan inside the test's own process, for cells that check what `explain` says, not
 * the command around it: a CLI child costs ~1 s of CPU (node, the engine, the config and stage
 * modules) before it prints a line. Runs stay in CLI children (test/helpers/cli.ts): measured,
 * `run()` inside jest costs as much CPU as the CLI or more, since its thread and process copies
 * then load sluice from src/ through the TS loader, where the CLI's load the built dist/.
 */
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
