/**
 * CLI overrides applied to a loaded config before validation:
 * `--mode <stage>=<inline|thread|process>`, `--concurrency <stage>=<n>`, `--sink-path <path>`
 * (`<sink>=<path>`, repeatable, when the config has several `sinks`),
 * `--source-path <path or glob>` (repeatable). `--set` is resolved with the params (params.ts).
 */
import { ConfigError, type ConfigIssue } from '../errors';
import { sinkSections } from './graph';

export interface Overrides {
  mode?: string[];
  concurrency?: string[];
  /** `<path>`, or `<sink>=<path>` (one per sink) when there are several sinks. */
  sinkPath?: string | string[];
  /** Replaces `source.path` (one pattern, or a list when given more than once). */
  sourcePath?: string[];
  /** `<param>=<value>` (repeatable): see params.ts. */
  set?: string[];
}

const MODES = ['inline', 'thread', 'process'];

/** Apply the overrides; throws a ConfigError naming every bad one. */
export function applyOverrides(raw: unknown, o: Overrides, resolvePath: (p: string) => string = (p) => p): unknown {
  const { config, issues } = overridden(raw, o, resolvePath);
  if (issues.length) throw new ConfigError(issues);
  return config;
}

/** The config with every valid override applied, and an issue for each one that is not. */
/** `resolvePath`: a path on the command line made absolute (relative to where the user stands). */
export function overridden(raw: unknown, o: Overrides, resolvePath: (p: string) => string = (p) => p): { config: unknown; issues: ConfigIssue[] } {
  const sinkPaths = o.sinkPath === undefined ? [] : [o.sinkPath].flat();
  if (!o.mode?.length && !o.concurrency?.length && !sinkPaths.length && !o.sourcePath?.length) return { config: raw, issues: [] };
  const config = structuredCloneConfig(raw);
  const stages: Array<Record<string, unknown>> = Array.isArray(config.stages) ? (config.stages as Array<Record<string, unknown>>) : [];
  const names = stages.map((s) => String(s?.name));
  const issues: ConfigIssue[] = [];
  const apply = (flag: string, values: string[] | undefined, set: (stage: Record<string, unknown>, value: string) => string | undefined) => {
    for (const entry of values ?? []) {
      const eq = entry.indexOf('=');
      if (eq <= 0 || eq === entry.length - 1) {
        issues.push({ path: `--${flag}`, message: `expected <stage>=<value>, got "${entry}"` });
        continue;
      }
      const name = entry.slice(0, eq);
      const index = names.indexOf(name);
      if (index < 0) {
        issues.push({ path: `--${flag}`, message: `no stage named "${name}" (stages: ${names.join(', ') || 'none'})` });
        continue;
      }
      const problem = set(stages[index], entry.slice(eq + 1));
      if (problem) issues.push({ path: `--${flag}`, message: `${name}: ${problem}` });
    }
  };
  apply('mode', o.mode, (stage, v) => {
    if (!MODES.includes(v)) return `must be one of ${MODES.join(', ')}, got "${v}"`;
    stage.mode = v;
    return undefined;
  });
  apply('concurrency', o.concurrency, (stage, v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || !Number.isSafeInteger(n)) return `must be an integer >= 1, got "${v}"`;
    stage.concurrency = n;
    return undefined;
  });
  issues.push(...overrideSinkPaths(config, sinkPaths, resolvePath));
  if (o.sourcePath?.length) {
    if (config.source && typeof config.source === 'object') (config.source as Record<string, unknown>).path = o.sourcePath.length === 1 ? o.sourcePath[0] : o.sourcePath;
  }
  return { config, issues };
}

/**
 * `--sink-path`: with one sink, its path (or `<name>=<path>` naming it); with several, one
 * `<name>=<path>` per sink to move, each sink at most once.
 */
function overrideSinkPaths(config: Record<string, unknown>, entries: string[], resolvePath: (p: string) => string): ConfigIssue[] {
  if (!entries.length) return [];
  const sections = sinkSections(config);
  const named = sections.map((s) => (typeof s.sink?.name === 'string' ? s.sink.name : undefined));
  const issues: ConfigIssue[] = [];
  const moved = new Set<number>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const k = eq > 0 ? named.indexOf(entry.slice(0, eq)) : -1;
    let at: number;
    let value: string;
    if (k >= 0) [at, value] = [k, entry.slice(eq + 1)];
    else if (sections.length === 1) [at, value] = [0, entry];
    else {
      issues.push({ path: '--sink-path', message: `expected <sink>=<path> naming one of the sinks (${named.filter(Boolean).join(', ')}), got "${entry}"` });
      continue;
    }
    if (value === '') {
      issues.push({ path: '--sink-path', message: `no path given in "${entry}"` });
      continue;
    }
    if (moved.has(at)) {
      issues.push({ path: '--sink-path', message: `${sections[at].where} is given more than once` });
      continue;
    }
    moved.add(at);
    const sink = sections[at].sink;
    if (sink) sink.path = resolvePath(value);
  }
  return issues;
}

/** Copy the parts overrides touch, so the user's module object is never mutated. */
function structuredCloneConfig(raw: unknown): Record<string, unknown> {
  const c = { ...(raw as Record<string, unknown>) };
  if (Array.isArray(c.stages)) c.stages = c.stages.map((s) => (s && typeof s === 'object' ? { ...s } : s));
  if (c.sink && typeof c.sink === 'object') c.sink = { ...(c.sink as object) };
  if (Array.isArray(c.sinks)) c.sinks = c.sinks.map((s) => (s && typeof s === 'object' ? { ...s } : s));
  if (c.source && typeof c.source === 'object') c.source = { ...(c.source as object) };
  return c;
}
