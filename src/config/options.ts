/**
 * A `thread` or `process` stage gets its `options` by structured clone (worker data, or
 * v8.serialize over the child's pipe), which cannot carry functions or symbols. Found here,
 * by path, instead of as a worker that fails to start with the cause lost. (The executors
 * check again at start, for plans built without a config: executors/options.ts.)
 */
import v8 from 'node:v8';
import type { ConfigIssue } from '../errors';

export function uncloneableOptions(raw: unknown): ConfigIssue[] {
  const stages = (raw as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return [];
  return stages.flatMap((s: unknown, i) => {
    const { mode, options } = (s ?? {}) as { mode?: unknown; options?: unknown };
    if ((mode !== 'thread' && mode !== 'process') || options === null || typeof options !== 'object') return [];
    const where = `stages[${i}].options`;
    const found = firstUncloneable(options, where, new Set());
    if (found) return [{ path: found.path, message: `a ${found.what} cannot be passed to a ${mode} stage (options cross to it by structured clone); pass plain data, or use mode: inline` }];
    try {
      // A thread gets them by postMessage (SharedArrayBuffers pass), a child by v8.serialize.
      if (mode === 'thread') structuredClone(options);
      else v8.serialize(options);
      return [];
    } catch (err) {
      return [{ path: where, message: `cannot be passed to a ${mode} stage: ${(err as Error).message}` }];
    }
  });
}

function firstUncloneable(value: unknown, path: string, seen: Set<object>): { path: string; what: string } | undefined {
  if (typeof value === 'function') return { path, what: 'function' };
  if (typeof value === 'symbol') return { path, what: 'symbol' };
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  const entries = value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    const found = firstUncloneable(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen);
    if (found) return found;
  }
  return undefined;
}
