/**
 * `combine` (worker/api.ts): once every copy of a stage has flushed, its partial results are
 * merged on the main thread into the stage's one output. Shared by every executor's `flush`:
 * the copies flush as before (in their threads or children), then this runs `combine` over all
 * their batches in copy order, in a host of its own on the main thread (the inline executor
 * passes one of its own hosts). A stage without `combine` passes its copies' outputs on as
 * they are.
 */
import type { Logger } from 'pino';
import type { OwnedBatch } from '../batch/owned';
import type { PlannedStage } from '../plan/types';
import type { StageDefinition } from '../worker/api';
import { copyInstance } from '../worker/fresh';
import { StageHost } from '../worker/host';
import { loadStageDefinition } from '../worker/load';
import { held } from './held';
import { runInline } from './inline-context';

export interface CombineDeps {
  log: Logger;
  loadStage?: (modulePath: string) => Promise<StageDefinition>;
  /** A host already loaded on the main thread (inline stages): its `setup` has run. */
  host?: StageHost;
}

export async function combineFlushed(planned: PlannedStage, outputs: OwnedBatch[], deps: CombineDeps): Promise<OwnedBatch[]> {
  let host = deps.host;
  try {
    if (host ? !host.combines : !(await stageCombines(planned, deps))) return outputs;
    host ??= await mainHost(planned, deps);
  } catch (err) {
    for (const o of outputs) o.release();
    throw err;
  }
  const combining = host;
  try {
    const out = await runInline({ stage: planned.name, copy: 0, phase: 'combine' }, () => combining.combine(outputs.flatMap((o) => o.batches)));
    // The merged output may lie in the partials' slabs (a partial passed on as it is): its own
    // lease holds them before the partials are released below.
    return [held(out, -1)];
  } finally {
    for (const o of outputs) o.release();
  }
}

/** Member `m` of a fused stage (plan/fuse.ts) as a stage of its own: its name, module and options. */
export function memberStage(planned: PlannedStage, m: number): PlannedStage {
  const member = planned.fused![m];
  return { ...planned, name: member.name, modulePath: member.modulePath, options: member.options, fused: undefined };
}

/** Whether the stage's module defines `combine` (loaded on the main thread; the checks loaded it already). */
export async function stageCombines(planned: PlannedStage, deps: CombineDeps): Promise<boolean> {
  const definition = await (deps.loadStage ?? loadStageDefinition)(planned.modulePath);
  return typeof definition.combine === 'function';
}

/**
 * A host on the main thread for `combine` (copy 0; `setup` does not run there), with a module
 * instance of its own (worker/fresh.ts): a `combine` that keeps something at module level sees
 * this run's, never another run's in this process.
 */
function mainHost(planned: PlannedStage, deps: CombineDeps): Promise<StageHost> {
  return StageHost.load({
    stage: planned.name,
    modulePath: planned.modulePath,
    options: planned.options,
    params: planned.params,
    copy: 0,
    copies: planned.copies,
    mode: planned.mode,
    log: deps.log.child({ stage: planned.name, combine: true }),
    load: deps.loadStage ?? copyInstance,
  });
}
