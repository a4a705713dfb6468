/**
 * inline mode: the stage runs on the main thread. `copies` hosts let an async stage
 * (one that awaits I/O) overlap with itself; a CPU-bound stage belongs in `thread`.
 */
import type { Logger } from 'pino';
import type { SluiceError } from '../errors';
import type { PlannedStage } from '../plan/types';
import { leaseSlabsOf } from '../batch/shared';
import { StageHost, type HostOutput } from '../worker/host';
import type { Item, StageExecutor, StageOutput, TransportStats } from './types';

export class InlineExecutor implements StageExecutor {
  readonly mode = 'inline' as const;
  readonly stage: string;
  readonly copies: number;
  readonly slots: number;
  private hosts: StageHost[] = [];
  private readonly free: StageHost[] = [];

  constructor(
    private readonly planned: PlannedStage,
    private readonly deps: { log: Logger },
  ) {
    this.stage = planned.name;
    this.copies = planned.copies;
    this.slots = planned.copies;
  }

  async start(): Promise<void> {
    const { planned } = this;
    this.hosts = await Promise.all(
      Array.from({ length: planned.copies }, (_, copy) =>
        StageHost.load({
          stage: planned.name,
          modulePath: planned.modulePath,
          options: planned.options,
          copy,
          copies: planned.copies,
          mode: 'inline',
          log: this.deps.log.child({ stage: planned.name, worker: copy }),
        }),
      ),
    );
    this.free.push(...this.hosts);
  }

  /** Whether the stage defines `flush` (known after start). */
  get stateful(): boolean {
    return this.hosts.some((h) => h.stateful);
  }

  async process(item: Item): Promise<StageOutput> {
    const host = this.free.pop();
    if (!host) throw new Error(`inline stage "${this.stage}": more tasks than copies (scheduler bug)`);
    try {
      return held(await host.process(item.batches, item.seq, item.sourceFile));
    } finally {
      this.free.push(host);
    }
  }

  async flush(): Promise<StageOutput[]> {
    const outputs: StageOutput[] = [];
    for (const host of this.hosts) outputs.push(held(await host.flush()));
    return outputs;
  }

  async close(): Promise<void> {}

  async abort(): Promise<void> {}

  // The main thread cannot die without taking the run with it: nothing to report.
  onFatal(_listener: (err: SluiceError) => void): void {}

  stats(): TransportStats {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
}

/**
 * One lease on every slab the output lies in: slabs it borrows from the input (pass-through
 * columns, which the input's lease stops holding once the stage returns) and slabs a returned
 * DataFrame was converted into (whose birth hold is then given up).
 */
function held(out: HostOutput): StageOutput {
  const lease = leaseSlabsOf(out.batches);
  out.born.release();
  return { batches: out.batches, lease };
}
