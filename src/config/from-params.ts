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
import { isError, type ConfigIssue } from '../errors';
import { escapeGlob } from '../inputs';
import { loadWithoutExit } from '../loader';
import type { ConfigContext, ResolvedParams } from './params';

/** The sections whose `path` may be a function: the source and each sink, with their config paths. */
function computedSections(config: Record<string, unknown>): { where: string; part: Record<string, unknown>; replace: (c: Record<string, unknown>, part: Record<string, unknown>) => Record<string, unknown> }[] {
  const out: ReturnType<typeof computedSections> = [];
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  for (const key of ['source', 'sink'] as const) {
    const part = obj(config[key]);
    if (part) out.push({ where: key, part, replace: (c, p) => ({ ...c, [key]: p }) });
  }
  if (Array.isArray(config.sinks)) {
    config.sinks.forEach((entry, i) => {
      const part = obj(entry);
      if (part) out.push({ where: `sinks[${i}]`, part, replace: (c, p) => ({ ...c, sinks: (c.sinks as unknown[]).map((e, j) => (j === i ? p : e)) }) });
    });
  }
  return out;
}

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
  for (const { where: section, part, replace } of computedSections(config)) {
    if (typeof part.path !== 'function') continue;
    const where = `${section}.path`;
    const isSource = section === 'source';
    // Copied, never written into: the user's module object stays as loaded.
    const copy: Record<string, unknown> = { ...part, path: undefined };
    config = replace(config, copy);
    if (!params) {
      unresolved.push(where);
      continue;
    }
    let value: unknown;
    try {
      // Config code, guarded as its module was: a process.exit() here fails this path, loudly.
      const values = isSource ? globLiteral(params) : params.values;
      value = await loadWithoutExit(`the function of ${where}`, () => (part.path as (ctx: ConfigContext) => unknown)({ params: values }));
    } catch (err) {
      unresolved.push(where);
      issues.push({ path: where, message: `its function threw: ${isError(err) ? err.message : String(err)}` });
      continue;
    }
    // What the path holds (empty, a list of what) is the schema's to check; a function that
    // returns no path at all (a forgotten return) is said as such.
    if (typeof value === 'string' || (isSource && Array.isArray(value))) {
      copy.path = value;
    } else {
      unresolved.push(where);
      const returned = value === undefined ? 'nothing' : value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
      issues.push({ path: where, message: `its function returned ${returned}; it must return ${isSource ? 'a path or glob, or a list of them' : 'a path'}` });
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
