/** The one switch on `mode`: everything above this line is mode-agnostic. */
import type { Logger } from 'pino';
import type { PlannedStage } from '../plan/types';
import { InlineExecutor, type InlineDeps } from './inline';
import { KeyedExecutor } from './keyed';
import { ProcessExecutor } from './process';
import { ThreadExecutor } from './thread';
import type { StageExecutor } from './types';

export type { StageExecutor, TransportStats, Lease } from './types';
export { OwnedBatch } from './types';

/** `loadStage` applies to inline stages only: threads and children load their own copy of the module. */
export function createExecutor(stage: PlannedStage, deps: { log: Logger; loadStage?: InlineDeps['loadStage'] }): StageExecutor {
  const executor = byMode(stage, deps);
  // Keyed routing (executors/keyed.ts) over the mode's own copies; one copy needs no routing.
  return stage.key?.length && stage.copies > 1 ? new KeyedExecutor(stage, executor, deps) : executor;
}

function byMode(stage: PlannedStage, deps: { log: Logger; loadStage?: InlineDeps['loadStage'] }): InlineExecutor | ThreadExecutor | ProcessExecutor {
  switch (stage.mode) {
    case 'inline':
      return new InlineExecutor(stage, deps);
    case 'thread':
      return new ThreadExecutor(stage, deps);
    case 'process':
      return new ProcessExecutor(stage, deps);
  }
}
