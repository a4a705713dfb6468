/**
 * Config values computed from the resolved params: `source.path` and `sink.path` may be
 * functions of `{ params }` (`path: ({ params }) => \`in/${params.day}/*.csv\``), called
 * once per `validate`, `explain` or `run` before the config is checked, so every check sees
 * the paths of tonight's run.
 *
 * A param's text is literal in a path: `--set region=acme[1]` names the folder `acme[1]`,
 * never also `acme1`. source.path is a glob, so its function gets each string param with the
 * glob characters escaped (`acme\[1\]`), unless the param is declared `pattern: true`;
 * sink.path is never a glob and gets the values as given.
 */
import type { ConfigIssue } from '../errors';
import { escapeGlob } from '../inputs';
import { loadWithoutExit } from '../loader';
import type { ConfigContext, ResolvedParams } from './params';

/** Sections whose `path` may be a function. */
const COMPUTED = ['source', 'sink'] as const;

/**
 * The config with each function path replaced by its value. Without params (they had
 * issues, which are reported) or when a function throws, the path is left out and named in
 * `unresolved`, so that no second issue ("must be a file path") is reported for it.
 */
export async function computeFromParams(raw: unknown, params: ResolvedParams | undefined): Promise<{ config: unknown; issues: ConfigIssue[]; unresolved: string[] }> {
  const issues: ConfigIssue[] = [];
  const unresolved: string[] = [];
  if (raw === null || typeof raw !== 'object') return { config: raw, issues, unresolved };
  let config = raw as Record<string, unknown>;
  for (const section of COMPUTED) {
    const part = config[section] as Record<string, unknown> | undefined;
    if (!part || typeof part !== 'object' || typeof part.path !== 'function') continue;
    const where = `${section}.path`;
    // Copied, never written into: the user's module object stays as loaded.
    config = { ...config, [section]: { ...part, path: undefined } };
    if (!params) {
      unresolved.push(where);
      continue;
    }
    let value: unknown;
    try {
      // Config code, guarded as its module was: a process.exit() here fails this path, loudly.
      const values = section === 'source' ? globLiteral(params) : params.values;
      value = await loadWithoutExit(`the function of ${where}`, () => (part.path as (ctx: ConfigContext) => unknown)({ params: values }));
    } catch (err) {
      unresolved.push(where);
      issues.push({ path: where, message: `its function threw: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    // What the path holds (empty, a list of what) is the schema's to check; a function that
    // returns no path at all (a forgotten return) is said as such.
    if (typeof value === 'string' || (section === 'source' && Array.isArray(value))) {
      (config[section] as Record<string, unknown>).path = value;
    } else {
      unresolved.push(where);
      const returned = value === undefined ? 'nothing' : value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
      issues.push({ path: where, message: `its function returned ${returned}; it must return ${section === 'source' ? 'a path or glob, or a list of them' : 'a path'}` });
    }
  }
  return { config, issues, unresolved };
}

/** The values with every string param's glob characters escaped, but those declared patterns. */
function globLiteral(params: ResolvedParams): ResolvedParams['values'] {
  const out: Record<string, ResolvedParams['values'][string]> = {};
  for (const [name, value] of Object.entries(params.values)) out[name] = typeof value === 'string' && !params.patterns?.includes(name) ? escapeGlob(value) : value;
  return Object.freeze(out);
}

/** Whether an issue is about a path left unresolved (its cause is reported instead). */
export function aboutUnresolved(issue: ConfigIssue, unresolved: readonly string[]): boolean {
  return unresolved.some((u) => issue.path === u || issue.path.startsWith(`${u}[`) || issue.path.startsWith(`${u}.`));
}
