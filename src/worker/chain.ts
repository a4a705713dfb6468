/**
 * The stages one copy runs, in order: one stage, or adjacent stages fused into one worker
 * (plan/fuse.ts), each batch passed from one to the next in this thread with no hand-off. Each
 * member is a StageHost of its own (its options, its `ctx.stage`, its errors), so fusion is
 * invisible to stage code.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Lease } from '../batch/owned';
import { StageError } from '../errors';
import type { StageMode } from '../config/types';
import type { Logger } from 'pino';
import { rowCount } from '../batch/frame-handoff';
import { StageHost, type HostInput, type HostOptions, type HostOutput } from './host';
import type { StageReject } from '../protocol/rejects';

/** Rows of `batches`, a handed-on frame's without making it a batch. */
function rowsOf(batches: readonly RecordBatch[]): number {
  let n = 0;
  for (const b of batches) n += rowCount(b);
  return n;
}

export interface ChainMember {
  stage: string;
  modulePath: string;
  options: Record<string, unknown>;
}

export class StageChain {
  private constructor(
    readonly hosts: StageHost[],
    /** Told which member runs next (a fused copy tells main, which names it if the copy dies). */
    private readonly onMember: (member: number) => void,
  ) {}

  static async load(
    members: ChainMember[],
    common: { params: Record<string, string | number | boolean>; copy: number; copies: number; mode: StageMode; log: Logger; load?: HostOptions['load'] },
    onMember: (member: number) => void = () => undefined,
  ): Promise<StageChain> {
    const hosts: StageHost[] = [];
    for (const [i, m] of members.entries()) {
      onMember(i);
      hosts.push(await StageHost.load({ ...common, stage: m.stage, modulePath: m.modulePath, options: m.options, log: common.log.child({ stage: m.stage }) }));
    }
    return new StageChain(hosts, onMember);
  }

  /** Per member, the columns the source left out that it would have received (StageHost.leaveOut). */
  leaveOut(perMember: readonly (readonly string[])[]): void {
    this.hosts.forEach((host, m) => host.leaveOut(perMember[m] ?? []));
  }

  async setup(): Promise<void> {
    for (const [i, host] of this.hosts.entries()) {
      this.onMember(i);
      await host.setup();
    }
  }

  /**
   * `input` through the members from `from` on. Each member's output lease is held until the
   * caller has taken the last output (a member may pass its input's buffers on).
   */
  async process(input: HostInput, from: number, seq?: number, sourceFile?: string): Promise<HostOutput> {
    let current = input;
    const born: Lease[] = [];
    const rejected: StageReject[] = [];
    // A member's rows are the task's while every member before it passed on as many rows as it got.
    let taskRows = true;
    try {
      for (let m = from; m < this.hosts.length; m++) {
        this.onMember(m);
        // A DataFrame a member returns goes to the next member as it is (batch/frame-handoff.ts).
        const out = await this.hosts[m].process(current, seq, sourceFile, taskRows, m < this.hosts.length - 1);
        born.push(out.born);
        if (out.rejected) rejected.push(...out.rejected);
        taskRows &&= rowsOf(out.batches) === rowsOf(current.batches);
        current = { batches: out.batches, backing: out.backing };
      }
    } catch (err) {
      for (const lease of born) lease.release();
      throw err;
    }
    return { batches: [...current.batches], backing: current.backing, born: { release: () => born.forEach((l) => l.release()) }, ...(rejected.length > 0 && { rejected }) };
  }

  /** Member `member`'s flush; `pipe`: its output through the members after it (else as it is, for a combine on main). */
  async flush(member: number, pipe: boolean): Promise<HostOutput> {
    this.onMember(member);
    const flushed = await this.hosts[member].flush();
    if (!pipe || member === this.hosts.length - 1) return flushed;
    try {
      const piped = await this.process({ batches: flushed.batches, backing: flushed.backing }, member + 1, -1);
      if (piped.rejected) {
        // Fused members run with onError 'fail' (plan/fuse.ts): a rejected row fails the run.
        piped.born.release();
        const first = piped.rejected[0];
        throw new StageError({ stage: first.stage, copy: this.hosts[0].ctx.copy }, 'flush', new Error(`ctx.reject took ${piped.rejected.length} rows out of the rows the stage before it flushed ("${first.reason}"), and its onError is 'fail' (the default): set onError: 'skip' or 'dead-letter' on it`));
      }
      return { batches: piped.batches, backing: piped.backing, born: { release: () => (piped.born.release(), flushed.born.release()) } };
    } catch (err) {
      flushed.born.release();
      throw err;
    }
  }
}
