/**
 * inline mode: the stage runs on the main thread. `copies` hosts let an async stage
 * (one that awaits I/O) overlap with itself; a CPU-bound stage belongs in `thread`.
 */
import type { Logger } from 'pino';
import type { SluiceError } from '../errors';
import type { PlannedStage } from '../plan/types';
import type { OwnedBatch } from '../batch/owned';
import type { StageDefinition } from '../worker/api';
import { StageHost } from '../worker/host';
import { combineFlushed } from './combine';
import { held } from './held';
import { runInline, withTimeout } from './inline-context';
import { plannedSlots } from './slots';
import type { StageExecutor, TransportStats } from './types';

export interface InlineDeps {
  log: Logger;
  /** Loads the stage module (default: the one loader every mode uses, worker/load.ts). */
  loadStage?: (modulePath: string) => Promise<StageDefinition>;
}

export class InlineExecutor implements StageExecutor {
  readonly mode = 'inline' as const;
  readonly stage: string;
  readonly copies: number;
  readonly slots: number;
  private hosts: StageHost[] = [];
  private readonly free: StageHost[] = [];

  constructor(
    private readonly planned: PlannedStage,
    private readonly deps: InlineDeps,
  ) {
    this.stage = planned.name;
    this.copies = planned.copies;
    this.slots = plannedSlots(planned, 1); // one task per host: `free` holds each host once
  }

  async start(): Promise<void> {
    const { planned } = this;
    this.hosts = await Promise.all(Array.from({ length: planned.copies }, (_, copy) => this.startCopy(copy)));
    this.free.push(...this.hosts);
  }

  /** Load the module and run `setup` now, so a failing setup stops the run before any batch is read. */
  private async startCopy(copy: number): Promise<StageHost> {
    const { planned } = this;
    const host = await runInline({ stage: planned.name, copy, phase: 'load' }, () =>
      StageHost.load({
        stage: planned.name,
        modulePath: planned.modulePath,
        options: planned.options,
        params: planned.params,
        copy,
        copies: planned.copies,
        mode: 'inline',
        log: this.deps.log.child({ stage: planned.name, worker: copy }),
        load: this.deps.loadStage,
      }),
    );
    await runInline({ stage: planned.name, copy, phase: 'setup' }, () => host.setup());
    return host;
  }

  leaveOut(perMember: readonly (readonly string[])[]): void {
    for (const host of this.hosts) host.leaveOut(perMember[0] ?? []);
  }

  /** Whether the stage defines `flush` (known after start). */
  get stateful(): boolean {
    return this.hosts.some((h) => h.stateful);
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    return input.consume(async () => {
      const host = this.free.pop();
      if (!host) throw new Error(`inline stage "${this.stage}": more tasks than copies (scheduler bug)`);
      try {
        return await this.run(host, input);
      } finally {
        this.free.push(host);
      }
    });
  }

  /** Keyed routing: every task on a copy of its own (the caller gives each copy one at a time; `free` is not used). */
  processOn(copy: number, input: OwnedBatch): Promise<OwnedBatch> {
    return input.consume(() => this.run(this.hosts[copy], input));
  }

  private async run(host: StageHost, input: OwnedBatch): Promise<OwnedBatch> {
    const timeoutMs = this.planned.timeoutMs;
    const where = { stage: this.stage, copy: host.ctx.copy, seq: input.seq, sourceFile: input.sourceFile, phase: 'process' as const, ...(timeoutMs !== undefined && { timeoutMs }) };
    // Inside runInline: the work ends (for the death watch too) when the watchdog gives up on it.
    const out = await runInline(where, () => withTimeout(host.process(input, input.seq, input.sourceFile), timeoutMs, where, () => undefined));
    return held(out, input.seq, input.sourceFile);
  }

  async flush(): Promise<OwnedBatch[]> {
    const outputs: OwnedBatch[] = [];
    try {
      for (const host of this.hosts) outputs.push(held(await runInline({ stage: this.stage, copy: host.ctx.copy, phase: 'flush' }, () => host.flush()), -1));
    } catch (err) {
      for (const out of outputs) out.release();
      throw err;
    }
    return combineFlushed(this.planned, outputs, { log: this.deps.log, host: this.hosts[0] });
  }

  async close(): Promise<void> {}

  async abort(): Promise<void> {}

  // The main thread cannot die without taking the run with it: nothing to report.
  onFatal(_listener: (err: SluiceError) => void): void {}

  stats(): TransportStats {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
}
