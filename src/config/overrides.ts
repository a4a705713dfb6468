/**
 * CLI overrides applied to a loaded config before validation:
 * `--mode <stage>=<inline|thread|process>`, `--concurrency <stage>=<n>`, `--sink-path <path>`,
 * `--source-path <path or glob>` (repeatable). `--set` is resolved with the params (params.ts).
 */
import { ConfigError, type ConfigIssue } from '../errors';

export interface Overrides {
  mode?: string[];
  concurrency?: string[];
  sinkPath?: string;
  /** Replaces `source.path` (one pattern, or a list when given more than once). */
  sourcePath?: string[];
  /** `<param>=<value>` (repeatable): see params.ts. */
  set?: string[];
}

const MODES = ['inline', 'thread', 'process'];

/** Apply the overrides; throws a ConfigError naming every bad one. */
export function applyOverrides(raw: unknown, o: Overrides): unknown {
  const { config, issues } = overridden(raw, o);
  if (issues.length) throw new ConfigError(issues);
  return config;
}

/** The config with every valid override applied, and an issue for each one that is not. */
export function overridden(raw: unknown, o: Overrides): { config: unknown; issues: ConfigIssue[] } {
  if (!o.mode?.length && !o.concurrency?.length && !o.sinkPath && !o.sourcePath?.length) return { config: raw, issues: [] };
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
  if (o.sinkPath) {
    if (config.sink && typeof config.sink === 'object') (config.sink as Record<string, unknown>).path = o.sinkPath;
  }
  if (o.sourcePath?.length) {
    if (config.source && typeof config.source === 'object') (config.source as Record<string, unknown>).path = o.sourcePath.length === 1 ? o.sourcePath[0] : o.sourcePath;
  }
  return { config, issues };
}

/** Copy the parts overrides touch, so the user's module object is never mutated. */
function structuredCloneConfig(raw: unknown): Record<string, unknown> {
  const c = { ...(raw as Record<string, unknown>) };
  if (Array.isArray(c.stages)) c.stages = c.stages.map((s) => (s && typeof s === 'object' ? { ...s } : s));
  if (c.sink && typeof c.sink === 'object') c.sink = { ...(c.sink as object) };
  if (c.source && typeof c.source === 'object') c.source = { ...(c.source as object) };
  return c;
}
