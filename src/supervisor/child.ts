/**
 * One child process of a `process` stage, seen from main: spawns it, speaks the frame
 * protocol over a dedicated socket (the child's fd 3), forwards its stdout/stderr as log
 * lines, and rejects every task it still owed with a CopyDiedError when it dies (its exit
 * code or signal, and its last stderr lines), as a thread copy does (piscina.ts): the one
 * mapping to the run's error is death.ts.
 *
 * Results are read by the kernel straight into slabs of the executor's arena (`onread`);
 * their lease travels with the batches, so the slab is reused once the consumer lets go,
 * and a thread stage downstream references those slabs instead of copying.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Socket } from 'node:net';
import v8 from 'node:v8';
import { chunksByteLength, encodeFrame, FrameDecoder } from '../batch/framing';
import { decodeBatches } from '../batch/ipc';
import { leaseOf } from '../batch/shared';
import { isSlab, release, SLAB_HEADER, type SlabArena } from '../batch/slab';
import { AbortedError, StageError, type BatchLocation, type WorkerExitError } from '../errors';
import { stageErrorOf } from './failure';
import { forwardLogLine, type Logger } from '../log';
import { copyEntry, copyExecArgv, OWN_EXT } from '../loader';
import type { PlannedStage } from '../plan/types';
import { DATA_FD, decodeChildMessage, encodeHeader, type ChildToMain, type MainToChild } from '../protocol/process';
import { watchOutput, type OutputTail } from './child-output';
import { channelDrained, REAP_MS, watchChannel, watchExit } from './child-watch';
import { CopyDiedError, settlesWithin, stopEscalating, type CopyExit, type RequestCopy } from './types';
import { FirstFatal } from './first-fatal';
import { deathError } from './death';
import { socketPair } from './socket-pair';
import { OwnedBatch } from '../batch/owned';
import type { StageReject } from '../protocol/rejects';

const ENTRY = copyEntry(path.resolve(__dirname, `../worker/process-entry${OWN_EXT}`));

interface Pending {
  location: BatchLocation;
  resolve(output: OwnedBatch): void;
  reject(err: Error): void;
}

/** What a child is asked: a batch (its IPC bytes as `payload`), its flush, or a fresh instance of its module (renew). */
export interface ChildRequest {
  message: { type: 'task'; seq: number; sourceFile?: string; leftOut?: string[] } | { type: 'flush' } | { type: 'renew' };
  payload: readonly Uint8Array[];
}

export class ChildCopy implements RequestCopy<ChildRequest, OwnedBatch> {
  pid: number | undefined;
  /** Payload bytes sent and received (Arrow IPC both ways). */
  bytesSerialized = 0;
  /** The child's peak RSS as it last reported it (with each result). */
  peakRssBytes = 0;
  /** Set once the process is gone and every pending task is rejected. */
  exit: CopyExit | undefined;
  readonly exited: Promise<CopyExit>;
  /** Settles once the child process exists, or once its start failed before that; never rejects. */
  readonly spawned: Promise<void>;
  /** close()/kill() asked for this exit: it is not a failure of the run. */
  expectExit = false;
  /** close(): the child ended by itself when asked (not made to by a signal). */
  closedByItself = false;
  /** Its start resolved (the stage module loaded and ran setup): a death from then on is not a failed start. */
  started = false;

  /** The task it was running when it died (or, with none, the copy): what its death names. */
  diedUnder: BatchLocation | undefined;

  private proc: ChildProcess | undefined;
  private channel: Socket | undefined;
  private readonly frames: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastWrite: Promise<void> = Promise.resolve();
  private tail: OutputTail | undefined;
  private brokenReason: string | undefined;
  private abandoned: Error | undefined;
  private markExited!: (exit: CopyExit) => void;
  private markSpawned!: () => void;
  /** The one death signal, also for a listener registered after it (first-fatal.ts). */
  private readonly deaths = new FirstFatal<CopyExit>();
  private ready: { resolve(): void; reject(err: Error): void } | undefined;

  constructor(
    private readonly planned: PlannedStage,
    readonly copy: number,
    private readonly log: Logger,
    /** Results are assembled in slabs of this arena. */
    arena: SlabArena,
    private readonly init: { options: Record<string, unknown>; logLevel: string; timeouts: { closeMs: number; killMs: number } },
  ) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    this.spawned = new Promise((resolve) => (this.markSpawned = resolve));
    this.frames = new FrameDecoder((frame) => this.onFrame(decodeChildMessage(frame.header), frame.payload), {
      allocate: (bytes) => new Uint8Array(arena.acquire(bytes), SLAB_HEADER, bytes),
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return this.proc !== undefined && this.exit === undefined && this.brokenReason === undefined;
  }

  /** Result bytes that went through the 64 KiB scratch buffer (small frames, the head of large ones). */
  get bytesCopied(): number {
    return this.frames.copiedBytes;
  }

  /** Spawn the child and send `init`; resolves when the stage module loaded and ran setup. */
  async start(): Promise<void> {
    try {
      return await this.spawnAndInit();
    } finally {
      this.markSpawned(); // a start that failed before its spawn (no-op after one)
    }
  }

  private async spawnAndInit(): Promise<void> {
    const pair = await socketPair({
      buffer: () => this.frames.readTarget(),
      callback: (n) => {
        try {
          this.frames.commitRead(n);
        } catch (err) {
          this.breakChannel(`its frame channel is corrupt: ${(err as Error).message}`);
        }
        return true;
      },
    });
    this.channel = pair.local;
    if (this.abandoned) {
      pair.local.destroy();
      pair.remote.destroy();
      throw this.abandoned;
    }
    const stdio: Array<'ignore' | 'pipe' | Socket> = ['ignore', 'pipe', 'pipe'];
    stdio[DATA_FD] = pair.remote;
    // The same socket again on the next fd, which nothing in the child opens: its I/O thread's
    // handle is closed when process.exit() stops the threads, a while before the process is
    // gone (over 250 ms on a loaded machine), and main took that early EOF for a child living
    // on without its channel and killed it, reporting SIGKILL instead of the exit code. With a
    // second descriptor the channel ends when the process does (or when the child ends it).
    stdio[DATA_FD + 1] = pair.remote;
    try {
      this.proc = spawn(process.execPath, [...copyExecArgv(), ENTRY], { stdio });
    } finally {
      pair.remote.destroy(); // the child holds its own copy now (or there is no child)
    }
    this.markSpawned();
    this.pid = this.proc.pid;
    const proc = this.proc;
    this.reaped = new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.once('error', () => resolve()); // spawn failed: no process to reap
    });
    this.tail = watchOutput(
      this.proc,
      (line, level) => forwardLogLine(this.log, line, level),
      (id) => (this.running = id),
    );
    this.wireChannel(pair.local);
    this.wireExit(this.proc);
    const { planned, copy } = this;
    const ready = new Promise<void>((resolve, reject) => (this.ready = { resolve, reject }));
    this.holdLoop();
    this.send({ type: 'init', stage: planned.name, modulePath: planned.modulePath, copy, copies: planned.copies, logLevel: this.init.logLevel, params: { ...planned.params }, ...(planned.splitOut && { splitOut: planned.splitOut }) }, [v8.serialize(this.init.options)]);
    return ready;
  }

  /** Run one task (or the flush) in this child; resolves with its output and the lease on it. */
  request({ message, payload }: ChildRequest): Promise<OwnedBatch> {
    const location: BatchLocation =
      message.type === 'task' ? { stage: this.planned.name, copy: this.copy, seq: message.seq, sourceFile: message.sourceFile } : { stage: this.planned.name, copy: this.copy };
    if (this.exit) return Promise.reject(new CopyDiedError(this.exit, this.lastWords()));
    const id = this.nextId++;
    return new Promise<OwnedBatch>((resolve, reject) => {
      this.pending.set(id, { location, resolve, reject });
      this.holdLoop();
      this.send({ ...message, id }, payload);
    });
  }

  onDeath(listener: (exit: CopyExit) => void): void {
    this.deaths.listen(listener);
  }

  /**
   * Ask the child to finish its queue and exit 0; escalate SIGTERM → SIGKILL like vitest's
   * forks pool when it takes too long. `closedByItself` says whether it needed that.
   */
  async close(): Promise<void> {
    this.expectExit = true;
    this.holdLoop();
    if (this.alive) this.send({ type: 'close' }, []);
    this.closedByItself = await stopEscalating(this.exited, (s) => this.signal(s), this.init.timeouts, (m) => this.log.warn({ pid: this.pid }, m));
    if (!this.closedByItself) await this.reapedAfterKill();
  }

  /**
   * Reject everything waiting now with `why` (the watchdog's CopyTimeoutError: a death, retried;
   * default: the run was stopped), SIGKILL the child and wait for it (a bounded time). What it
   * still sends is dropped (take()).
   */
  async kill(why: Error = new AbortedError(`stage "${this.planned.name}" was stopped`)): Promise<void> {
    this.abandon(why);
    this.signal('SIGKILL');
    await settlesWithin(this.exited, this.init.timeouts.killMs);
    await this.reapedAfterKill();
  }

  /**
   * Once SIGKILL is sent, the child is gone as soon as the kernel has stopped it and Node has
   * reaped it: wait for that ('exit'), not for its pipes to drain (`exited`, which may take
   * DRAIN_GRACE_MS more). A bounded wait of the killMs above returned with the child still
   * there on a loaded machine; REAP_MS bounds it only against a process the kernel cannot stop.
   */
  private async reapedAfterKill(): Promise<void> {
    if (!(await settlesWithin(this.reaped, REAP_MS))) this.log.warn({ pid: this.pid }, `child survived SIGKILL for ${REAP_MS} ms; giving up on it`);
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.proc && this.exit === undefined) this.proc.kill(signal);
  }

  /** Reject everything waiting with `err` now (abort); the exit that follows is quiet. */
  private abandon(err: Error): void {
    this.expectExit = true;
    this.holdLoop();
    this.abandoned = err;
    this.ready?.reject(err);
    this.ready = undefined;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!this.proc) this.markExited({ exitCode: null, signal: null }); // never spawned: nothing to wait for
  }

  exitError(location: BatchLocation): WorkerExitError {
    return deathError(this.exit ?? { exitCode: null, signal: null }, location, 'process', { detail: this.lastWords() }) as WorkerExitError;
  }

  /** Why its channel broke and its last stderr lines, indented on lines of their own (undefined: none). */
  lastWords(): string | undefined {
    const lines = [...(this.brokenReason ? [this.brokenReason] : []), ...(this.tail?.lines() ?? [])];
    return lines.length ? `\n  ${lines.join('\n  ')}` : undefined;
  }

  private send(message: MainToChild, payload: readonly Uint8Array[]): void {
    const channel = this.channel;
    if (!this.alive || !channel || channel.destroyed) return; // the exit handler rejects what waits
    this.bytesSerialized += chunksByteLength(payload);
    // cork/uncork: the header and every body buffer leave in one writev, uncopied.
    const chunks = encodeFrame(encodeHeader(message), payload);
    this.lastWrite = new Promise<void>((resolve) => {
      channel.cork();
      chunks.forEach((chunk, i) => channel.write(chunk, i === chunks.length - 1 ? () => resolve() : undefined));
      channel.uncork();
    });
  }

  /** Resolves once every frame sent so far is handed to the kernel (or failed to be). */
  written(): Promise<void> {
    return this.lastWrite;
  }

  private onFrame(message: ChildToMain, payload: Uint8Array): void {
    switch (message.type) {
      case 'ready':
        this.pid = message.pid;
        this.started = true;
        this.ready?.resolve();
        this.ready = undefined;
        this.holdLoop();
        return;
      case 'result': {
        const p = this.take(message.id);
        if (!p) {
          // The answer of a request given up on (killed by the watchdog): never delivered, its slab freed.
          if (isSlab(payload.buffer)) release(payload.buffer);
          return;
        }
        this.peakRssBytes = Math.max(this.peakRssBytes, message.maxRss ?? 0);
        this.bytesSerialized += payload.byteLength;
        const slab = isSlab(payload.buffer) ? payload.buffer : undefined;
        try {
          const { seq = -1, sourceFile } = p.location;
          // Rows the stage rejected (ctx.reject) come first, as JSON: the Arrow IPC follows.
          const skip = message.rejectedBytes ?? 0;
          const rejected = skip ? (JSON.parse(new TextDecoder().decode(payload.subarray(0, skip))) as StageReject[]) : undefined;
          if (skip) payload = payload.subarray(skip);
          // The result lies in its slab as one IPC stream: a Parquet sink reads it there.
          const backing = slab && ({ format: 'ipc-stream', slab, offset: payload.byteOffset, length: payload.byteLength } as const);
          const batches = decodeBatches(payload);
          // Cut by the child for the keyed stage that reads it (plan/key-split.ts): the copy of each part.
          const cut = message.split && this.planned.splitOut && message.split.copyOf.length === batches.length ? { ...this.planned.splitOut, ...message.split } : undefined;
          p.resolve(new OwnedBatch({ seq, sourceFile, batches, lease: slab && leaseOf([slab]), backing, ...(cut && { split: cut }), ...(rejected && { rejected }) }));
        } catch (err) {
          if (slab) release(slab);
          p.reject(new StageError(p.location, 'process', new Error(`cannot decode the child's output as Arrow IPC: ${(err as Error).message}`)));
        }
        return;
      }
      case 'failed': {
        if (message.id === undefined) {
          this.ready?.reject(stageErrorOf(message.error, { stage: this.planned.name, copy: this.copy }, 'load'));
          this.ready = undefined;
          return;
        }
        const p = this.take(message.id);
        p?.reject(stageErrorOf(message.error, p.location, 'process'));
        return;
      }
    }
  }

  /**
   * The request `id` answers, taken out of the pending ones; undefined for one given up on (the
   * watchdog killed the child; its rejection was its answer). Each request has its own id on
   * the wire, so an answer can only ever settle the attempt it belongs to.
   */
  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) {
      if (id >= this.nextId) throw new Error(`child answered unknown task id ${id}`);
      return undefined;
    }
    this.pending.delete(id);
    this.holdLoop();
    return p;
  }

  /** Settles when Node has reaped the child (its 'exit'); at once when it was never spawned. */
  private reaped: Promise<void> = Promise.resolve();

  /**
   * The child, its pipes and its channel keep Node running only while the run waits on it (its
   * start, a task, its exit once asked to stop), not while it idles: a run that waits on
   * nothing else (an inline stage's promise that never settles) must let Node run out of work,
   * which the run guard reports as a stall, where an idle child kept the process alive: a hang.
   */
  private holdLoop(): void {
    const busy = this.ready !== undefined || this.pending.size > 0 || this.expectExit;
    for (const handle of [this.proc, this.proc?.stdout, this.proc?.stderr, this.channel] as ({ ref(): void; unref(): void } | null | undefined)[]) {
      if (busy) handle?.ref();
      else handle?.unref();
    }
  }

  /** The task the child last said it started (see RUNNING_TASK). */
  private running: number | undefined;

  /** Settles when the frame channel has delivered everything the child sent (EOF or failure). */
  private channelDrained: Promise<void> = Promise.resolve();

  private wireChannel(channel: Socket): void {
    this.channelDrained = channelDrained(channel);
    const still = { exited: this.exited, expected: () => this.exit !== undefined || this.expectExit };
    watchChannel(channel, still, (why) => this.breakChannel(why));
  }

  /** The channel is unusable while the process lives: kill it; the exit reports why. */
  private breakChannel(reason: string): void {
    if (this.brokenReason !== undefined) return;
    this.brokenReason = reason;
    this.proc?.kill('SIGKILL');
  }

  private wireExit(proc: ChildProcess): void {
    watchExit(
      proc,
      () => this.channelDrained,
      (err) => this.tail?.keep(`spawn failed: ${err.message}`),
      (status) => this.gone(status),
    );
  }

  /** The child is gone: every task it owed fails with its death, then the death signal (unless asked). */
  private gone(status: CopyExit): void {
    this.exit = status;
    this.channel?.destroy();
    // The task it was running first (when unanswered); then the others, oldest first.
    const pending = [...this.pending.entries()].sort(([a], [b]) => (a === this.running ? -1 : b === this.running ? 1 : a - b));
    this.pending.clear();
    this.diedUnder = pending[0]?.[1].location ?? { stage: this.planned.name, copy: this.copy };
    this.ready?.reject(this.exitError({ stage: this.planned.name, copy: this.copy }));
    this.ready = undefined;
    const words = this.lastWords();
    for (const [, p] of pending) p.reject(new CopyDiedError(status, words));
    this.markExited(status);
    if (!this.expectExit) this.deaths.report(status);
  }
}
