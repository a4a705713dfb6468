/**
 * Whether a stage keeps state across batches (it has `flush`): asked of its module as every copy
 * loads it (worker/load.ts; already loaded on the main thread by the checks, so cached). A
 * stage with state cannot have a batch run again in parts (runtime/bisect.ts): the parts run
 * before one threw would be counted twice.
 */
import { loadStageDefinition } from '../worker/load';

export async function keepsState(modulePath: string): Promise<boolean> {
  const definition = await loadStageDefinition(modulePath);
  return typeof definition.flush === 'function';
}

/** Whether a stage's module merges its copies' (or a resumable run's units') partials: it has `combine` (runtime/unit-partials.ts). */
export async function mergesPartials(modulePath: string): Promise<boolean> {
  const definition = await loadStageDefinition(modulePath);
  return typeof definition.combine === 'function';
}
