/**
 * A thread stage gets its `options` by structured clone (postMessage), a process stage by v8
 * serialisation (which also refuses SharedArrayBuffers); both refuse functions and symbols.
 * Unchecked, that surfaced as a bare DataCloneError from deep inside piscina, or as "stage was
 * stopped".
 */
import v8 from 'node:v8';
import { StageError } from '../errors';

export function checkOptionsCloneable(stage: string, mode: 'thread' | 'process', options: Record<string, unknown>): void {
  const copy = mode === 'thread' ? structuredClone : v8.serialize;
  try {
    copy(options);
  } catch (err) {
    const where = findUncloneable(options, 'options', copy) ?? 'options';
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
function findUncloneable(value: unknown, path: string, copy: (v: unknown) => unknown, seen = new Set<unknown>()): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol') return path;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  try {
    copy(value);
    return undefined;
  } catch {
    // this value fails: a child may be the culprit, else it is
  }
  for (const [key, child] of Object.entries(value)) {
    const found = findUncloneable(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, copy, seen);
    if (found) return found;
  }
  return path;
}
