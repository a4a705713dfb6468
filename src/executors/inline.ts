/**
 * inline mode: the stage runs on the main thread. `copies` hosts let an async stage
 * (one that awaits I/O) overlap with itself; a CPU-bound stage belongs in `thread`.
 * Adjacent inline stages fused into one (plan/fuse.ts) run as a chain per copy
 * (worker/chain.ts), as a fused thread group does in its worker: each batch through every
 * member in turn, a DataFrame a member returns handed to the next as it is.
 *
 * Each copy loads its own instance of each member's module (worker/fresh.ts), as a thread or
 * child copy does: state a stage keeps at module level is one copy's of one run, never shared
 * with another copy, another stage of the same module, or another run in this process.
 */
import type { Logger } from 'pino';
import type { SluiceError } from '../errors';
import type { PlannedStage } from '../plan/types';
import type { OwnedBatch } from '../batch/owned';
import type { StageDefinition } from '../worker/api';
import { StageChain } from '../worker/chain';
import { copyInstance, freshInstance } from '../worker/fresh';
import { combineFlushed, memberStage } from './combine';
import { held } from './held';
import { runInline, withTimeout, type InlineWork } from './inline-context';
import { plannedSlots } from './slots';
import type { StageExecutor, TransportStats } from './types';

export interface InlineDeps {
  log: Logger;
  /** Loads the stage module, called once per member per copy (default: an instance of its own, worker/fresh.ts copyInstance). */
  loadStage?: (modulePath: string) => Promise<StageDefinition>;
}

export class InlineExecutor implements StageExecutor {
  readonly mode = 'inline' as const;
  readonly stage: string;
  readonly copies: number;
  readonly slots: number;
  /** One chain per copy: the stage alone, or a fused group's members in order. */
  private chains: StageChain[] = [];
  private readonly free: StageChain[] = [];
  /**
   * Per copy, the work its chain is doing now. In a fused group the chain names the member it
   * runs (`onMember`), so the death watch, a stall and an unhandled rejection blame that
   * member, as they would unfused (and as a fused thread group's errors do), not the group.
   */
  private readonly working: (InlineWork | undefined)[] = [];

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
    this.chains = await Promise.all(Array.from({ length: planned.copies }, (_, copy) => this.startCopy(copy)));
    this.free.push(...this.chains);
  }

  /** Load the modules and run `setup` now, so a failing setup stops the run before any batch is read. */
  private async startCopy(copy: number, load = this.deps.loadStage ?? copyInstance): Promise<StageChain> {
    const { planned } = this;
    const members = planned.fused?.map((m) => ({ stage: m.name, modulePath: m.modulePath, options: m.options })) ?? [{ stage: planned.name, modulePath: planned.modulePath, options: planned.options }];
    const onMember = (m: number) => {
      const work = this.working[copy];
      if (work) work.stage = members[m].stage;
    };
    // A member's load or setup failing is blamed on that member (the StageError it throws names it).
    const chain = await runInline(this.begin(copy, { stage: planned.name, copy, phase: 'load' }), () =>
      StageChain.load(members, { params: planned.params ?? {}, copy, copies: planned.copies, mode: 'inline', log: this.deps.log.child({ worker: copy }), load }, onMember),
    );
    await runInline(this.begin(copy, { stage: planned.name, copy, phase: 'setup' }), () => chain.setup());
    return chain;
  }

  /** `work` is what copy `copy` does from now on (its chain renames it as members take turns). */
  private begin(copy: number, work: InlineWork): InlineWork {
    this.working[copy] = work;
    return work;
  }

  startingStage(): { stage: string; phase: 'load' | 'setup' } | undefined {
    for (const w of this.working) if (w && (w.phase === 'load' || w.phase === 'setup')) return { stage: w.stage, phase: w.phase };
    return undefined;
  }

  runningStage(seq: number): string | undefined {
    return this.working.find((w) => w?.seq === seq)?.stage;
  }

  leaveOut(perMember: readonly (readonly string[])[]): void {
    for (const chain of this.chains) chain.leaveOut(perMember);
  }

  /** Whether a member defines `flush` (known after start). */
  get stateful(): boolean {
    return this.chains.some((c) => c.hosts.some((h) => h.stateful));
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    return input.consume(async () => {
      const chain = this.free.pop();
      if (!chain) throw new Error(`inline stage "${this.stage}": more tasks than copies (scheduler bug)`);
      try {
        return await this.run(chain, input);
      } finally {
        this.free.push(chain);
      }
    });
  }

  /** Keyed routing: every task on a copy of its own (the caller gives each copy one at a time; `free` is not used). */
  processOn(copy: number, input: OwnedBatch): Promise<OwnedBatch> {
    return input.consume(() => this.run(this.chains[copy], input));
  }

  /** `input` through the chain's members from `from` on. */
  private async run(chain: StageChain, input: OwnedBatch, from = 0): Promise<OwnedBatch> {
    const timeoutMs = this.planned.timeoutMs;
    const copy = chain.hosts[0].ctx.copy;
    const where = this.begin(copy, { stage: this.stage, copy, seq: input.seq, sourceFile: input.sourceFile, phase: 'process' as const, ...(timeoutMs !== undefined && { timeoutMs }) });
    // Inside runInline: the work ends (for the death watch too) when the watchdog gives up on it.
    const out = await runInline(where, () => withTimeout(chain.process(input, from, input.seq, input.sourceFile), timeoutMs, where, () => undefined));
    return held(out, input.seq, input.sourceFile);
  }

  /**
   * Each member flushes in turn, as it would unfused (as a fused thread group does): its output
   * goes through the members after it; a member's `combine` merges its copies' partials first,
   * and the merged output then goes through the members after it.
   */
  async flush(): Promise<OwnedBatch[]> {
    const members = this.chains[0]?.hosts.length ?? 0;
    const out: OwnedBatch[] = [];
    try {
      for (let m = 0; m < members; m++) {
        const host = this.chains[0].hosts[m];
        const member = this.planned.fused ? memberStage(this.planned, m) : this.planned;
        const flushed: OwnedBatch[] = [];
        try {
          for (const chain of this.chains) flushed.push(held(await runInline({ stage: member.name, copy: chain.hosts[m].ctx.copy, phase: 'flush' }, () => chain.flush(m, !host.combines)), -1));
        } catch (err) {
          for (const f of flushed) f.release();
          throw err;
        }
        if (!host.combines) {
          out.push(...flushed);
          continue;
        }
        const merged = await combineFlushed(member, flushed, { log: this.deps.log, host });
        for (const [i, item] of merged.entries()) {
          if (m === members - 1) out.push(item);
          else {
            try {
              out.push(await item.consume(() => this.run(this.chains[0], item, m + 1)));
            } catch (err) {
              for (const rest of merged.slice(i + 1)) rest.release();
              throw err;
            }
          }
        }
      }
    } catch (err) {
      for (const o of out) o.release();
      throw err;
    }
    return out;
  }

  async flushUnit(): Promise<OwnedBatch[]> {
    const partials: OwnedBatch[] = [];
    try {
      for (const chain of this.chains) partials.push(held(await runInline({ stage: this.stage, copy: chain.hosts[0].ctx.copy, phase: 'flush' }, () => chain.flush(0, false)), -1));
    } catch (err) {
      for (const p of partials) p.release();
      throw err;
    }
    return partials;
  }

  async renew(): Promise<void> {
    // A fresh instance of the module per copy (worker/fresh.ts), as a new copy gets: never the one the unit before used.
    const renewed = await Promise.all(this.chains.map((chain) => this.startCopy(chain.hosts[0].ctx.copy, freshInstance)));
    this.chains = renewed;
    this.free.length = 0;
    this.free.push(...renewed);
  }

  async close(): Promise<void> {}

  async abort(): Promise<void> {}

  // The main thread cannot die without taking the run with it: nothing to report.
  onFatal(_listener: (err: SluiceError) => void): void {}

  stats(): TransportStats {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
}
