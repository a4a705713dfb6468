/**
 * The stages one copy runs, in order: one stage, or adjacent stages fused into one worker
 * (plan/fuse.ts), each batch passed from one to the next in this thread with no hand-off. Each
 * member is a StageHost of its own (its options, its `ctx.stage`, its errors), so fusion is
 * invisible to stage code.
 */
import type { Lease } from '../batch/owned';
import type { StageMode } from '../config/types';
import type { Logger } from 'pino';
import { StageHost, type HostInput, type HostOptions, type HostOutput } from './host';

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
    try {
      for (let m = from; m < this.hosts.length; m++) {
        this.onMember(m);
        // A DataFrame a member returns goes to the next member as it is (batch/frame-handoff.ts).
        const out = await this.hosts[m].process(current, seq, sourceFile, m < this.hosts.length - 1);
        born.push(out.born);
        current = { batches: out.batches, backing: out.backing };
      }
    } catch (err) {
      for (const lease of born) lease.release();
      throw err;
    }
    return { batches: [...current.batches], backing: current.backing, born: { release: () => born.forEach((l) => l.release()) } };
  }

  /** Member `member`'s flush; `pipe`: its output through the members after it (else as it is, for a combine on main). */
  async flush(member: number, pipe: boolean): Promise<HostOutput> {
    this.onMember(member);
    const flushed = await this.hosts[member].flush();
    if (!pipe || member === this.hosts.length - 1) return flushed;
    try {
      const piped = await this.process({ batches: flushed.batches, backing: flushed.backing }, member + 1, -1);
      return { batches: piped.batches, backing: piped.backing, born: { release: () => (piped.born.release(), flushed.born.release()) } };
    } catch (err) {
      flushed.born.release();
      throw err;
    }
  }
}
