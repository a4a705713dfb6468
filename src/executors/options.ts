/**
 * A thread or process stage gets its `options` by structured clone (v8 serialisation), which
 * refuses functions, symbols and class instances with methods it cannot copy; unchecked, that
 * surfaced as a bare DataCloneError from deep inside piscina, or as "stage was stopped".
 */
import v8 from 'node:v8';
import { StageError } from '../errors';

export function checkOptionsCloneable(stage: string, mode: 'thread' | 'process', options: Record<string, unknown>): void {
  try {
    v8.serialize(options);
  } catch (err) {
    const where = findUncloneable(options, 'options') ?? 'options';
    throw new StageError(
      { stage },
      'load',
      new Error(
        `${where} cannot be sent to a ${mode} stage (${(err as Error).message}): options must be plain data (numbers, strings, booleans, arrays, plain objects, Dates, typed arrays); pass a module path or a name instead of a function`,
      ),
    );
  }
}

/** The path of the first value structured clone cannot copy (`options.hash.fn`), if found. */
function findUncloneable(value: unknown, path: string, seen = new Set<unknown>()): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol') return path;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  try {
    v8.serialize(value);
    return undefined;
  } catch {
    // this value fails: a child may be the culprit, else it is
  }
  for (const [key, child] of Object.entries(value)) {
    const found = findUncloneable(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen);
    if (found) return found;
  }
  return path;
}
