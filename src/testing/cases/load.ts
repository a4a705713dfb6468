/**
 * Finding, loading and checking a cases file. Every problem is reported at once with its path
 * (`[1].stage: no stage "dbl" in the pipeline (did you mean "double"?)`), as config errors are.
 */
import { ensureLoaderFor } from '../../loader';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from '../../config/zod';
import { closest } from '../../config/closest';
import { formatPath } from '../../config/validate';
import { SluiceError, describeCause, type ConfigIssue } from '../../errors';
import { COLUMN_TYPE_NAMES } from '../build';
import type { PipelineCase } from './define';

export class CasesError extends SluiceError {
  constructor(
    message: string,
    readonly issues: ConfigIssue[] = [],
  ) {
    super('SLUICE_CASES_INVALID', message);
  }
}

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json'];

/** `pipeline.config.ts` → `pipeline.cases.ts` (or another of EXTENSIONS) in the same folder. */
export function findCasesFile(configFile: string): string {
  const dir = path.dirname(configFile);
  const base = path.basename(configFile).replace(/(\.config)?\.[cm]?[jt]s$/, '');
  const found = EXTENSIONS.map((ext) => path.join(dir, `${base}.cases${ext}`)).filter((f) => existsSync(f));
  if (found.length > 1) throw new CasesError(`more than one cases file beside ${configFile}: ${found.map((f) => path.basename(f)).join(', ')}; keep one, or name it with --cases`);
  if (found.length === 0) throw new CasesError(`no cases file beside ${configFile}: write ${path.join(dir, `${base}.cases.ts`)} (see sluice's docs/testing.md), or name one with --cases`);
  return found[0];
}

const row = z.record(z.string(), z.unknown(), { error: 'must be an object of column values' });
const caseSchema = z.strictObject({
  name: z.string({ error: 'must be a name' }).min(1, { error: 'must be a name' }),
  stage: z.string({ error: 'must be a stage name' }).optional(),
  input: z.array(row, { error: 'must be a list of rows' }),
  batchRows: z.number({ error: 'must be an integer >= 1' }).int({ error: 'must be an integer >= 1' }).min(1, { error: 'must be an integer >= 1' }).optional(),
  types: z.record(z.string(), z.enum(COLUMN_TYPE_NAMES as [string, ...string[]], { error: `must be one of ${COLUMN_TYPE_NAMES.join(', ')}` }), { error: 'must map column names to type names' }).optional(),
  expected: z.array(row, { error: 'must be a list of rows' }),
  ordered: z.boolean({ error: 'must be true or false' }).optional(),
  options: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
});
const casesSchema = z.array(caseSchema, { error: 'must be a list of cases: export default defineCases([{ name, input, expected }])' }).min(1, { error: 'must hold at least one case' });

/** Load and check a cases file against the pipeline's stage names. */
export async function loadCases(file: string, stageNames: readonly string[]): Promise<PipelineCase[]> {
  const raw = await loadRaw(file);
  const parsed = casesSchema.safeParse(raw);
  const issues: ConfigIssue[] = parsed.success
    ? []
    : parsed.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => {
              const hint = closest(k, Object.keys(caseSchema.shape));
              return { path: formatPath([...i.path, k]), message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${Object.keys(caseSchema.shape).join(', ')}` };
            })
          : [{ path: formatPath(i.path), message: i.message }],
      );
  if (Array.isArray(raw)) issues.push(...nameIssues(raw, stageNames));
  // In the order of the file: by case, stable within a case.
  const caseIndex = (i: ConfigIssue) => Number(/^\[(\d+)\]/.exec(i.path)?.[1] ?? -1);
  issues.sort((a, b) => caseIndex(a) - caseIndex(b));
  if (issues.length) throw new CasesError(`invalid cases in ${file}:\n${issues.map((i) => `  ✖ ${i.path}: ${i.message}`).join('\n')}`, issues);
  return parsed.data as PipelineCase[];
}

function nameIssues(raw: unknown[], stageNames: readonly string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  raw.forEach((c, i) => {
    const { name, stage, options } = (c ?? {}) as { name?: unknown; stage?: unknown; options?: unknown };
    if (typeof stage === 'string' && !stageNames.includes(stage)) {
      const hint = closest(stage, [...stageNames]);
      issues.push({ path: `[${i}].stage`, message: `no stage "${stage}" in the pipeline${hint ? ` (did you mean "${hint}"?)` : ''}; stages: ${stageNames.join(', ') || 'none'}` });
    }
    if (options !== undefined && stage === undefined) issues.push({ path: `[${i}].options`, message: 'options apply to one stage: name it with `stage`' });
    if (typeof name === 'string') {
      const first = seen.get(name);
      if (first !== undefined) issues.push({ path: `[${i}].name`, message: `duplicate case name "${name}" (also [${first}])` });
      else seen.set(name, i);
    }
  });
  return issues;
}

async function loadRaw(file: string): Promise<unknown> {
  if (!existsSync(file)) throw new CasesError(`cases file not found: ${file}`);
  try {
    if (file.endsWith('.json')) return JSON.parse(readFileSync(file, 'utf8'));
    // Built sluice registers the TypeScript loader only where a user's TypeScript is loaded.
    await ensureLoaderFor(file, { esm: true });
    let mod: unknown = await import(pathToFileURL(file).href);
    // ESM gives `{ default }`; a CommonJS module compiled by tsx may wrap it once more.
    for (let i = 0; i < 2 && mod && typeof mod === 'object' && !Array.isArray(mod) && 'default' in mod; i++) mod = (mod as { default: unknown }).default;
    return mod;
  } catch (err) {
    throw new CasesError(`could not load cases file ${file}: ${describeCause(err)}`);
  }
}
