/**
 * One child process of a `process` stage, seen from main: spawns it, speaks the frame
 * protocol over a dedicated socket (the child's fd 3), forwards its stdout/stderr as log
 * lines, and turns its death into a WorkerExitError for every task it still owed.
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
import { deserializeError, StageError, WorkerExitError, type BatchLocation, type SluiceError } from '../errors';
import { forwardLogLine, type Logger } from '../log';
import { loaderExecArgv, OWN_EXT } from '../loader';
import type { PlannedStage } from '../plan/types';
import { DATA_FD, decodeChildMessage, encodeHeader, type ChildToMain, type MainToChild } from '../protocol/process';
import { watchOutput, type OutputTail } from './process-output';
import { socketPair } from './socket-pair';
import type { StageOutput } from './types';

const ENTRY = path.resolve(__dirname, `../worker/process-entry${OWN_EXT}`);
/** After 'exit', how long the pipes may stay quiet before reporting without their 'close'. */
const DRAIN_GRACE_MS = 250;
/** ...and how long at most, however much still flows (a grandchild writing to the inherited pipe forever). */
const DRAIN_MAX_MS = 10_000;

interface Pending {
  location: BatchLocation;
  resolve(output: StageOutput): void;
  reject(err: SluiceError): void;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ChildCopy {
  pid: number | undefined;
  /** Payload bytes sent and received (Arrow IPC both ways). */
  bytesSerialized = 0;
  /** The child's peak RSS as it last reported it (with each result). */
  peakRssBytes = 0;
  /** Set once the process is gone and every pending task is rejected. */
  exit: ChildExit | undefined;
  readonly exited: Promise<ChildExit>;
  /** close()/abort() asked for this exit: it is not a failure of the run. */
  expectExit = false;

  private proc: ChildProcess | undefined;
  private channel: Socket | undefined;
  private readonly frames: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastWrite: Promise<void> = Promise.resolve();
  private tail: OutputTail | undefined;
  private brokenReason: string | undefined;
  private abandoned: SluiceError | undefined;
  private markExited!: (exit: ChildExit) => void;
  private ready: { resolve(): void; reject(err: SluiceError): void } | undefined;

  constructor(
    private readonly planned: PlannedStage,
    readonly copy: number,
    private readonly log: Logger,
    /** Results are assembled in slabs of this arena. */
    arena: SlabArena,
    /** Called once when the child is gone, after its pending tasks were rejected. */
    private readonly onGone: (child: ChildCopy, err: WorkerExitError) => void,
  ) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
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
  async start(options: Record<string, unknown>, logLevel: string): Promise<void> {
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
    try {
      this.proc = spawn(process.execPath, [...loaderExecArgv(this.planned.modulePath), ENTRY], { stdio });
    } finally {
      pair.remote.destroy(); // the child holds its own copy now (or there is no child)
    }
    this.pid = this.proc.pid;
    this.tail = watchOutput(
      this.proc,
      (line, level) => forwardLogLine(this.log, line, level),
      (id) => (this.running = id),
    );
    this.wireChannel(pair.local);
    this.wireExit(this.proc);
    const { planned, copy } = this;
    const ready = new Promise<void>((resolve, reject) => (this.ready = { resolve, reject }));
    this.send({ type: 'init', stage: planned.name, modulePath: planned.modulePath, copy, copies: planned.copies, logLevel }, [v8.serialize(options)]);
    return ready;
  }

  /** Run one task (or the flush) in this child; resolves with its output and the lease on it. */
  request(message: { type: 'task'; seq: number; sourceFile?: string } | { type: 'flush' }, payload: Uint8Array[]): Promise<StageOutput> {
    const location: BatchLocation =
      message.type === 'task' ? { stage: this.planned.name, copy: this.copy, seq: message.seq, sourceFile: message.sourceFile } : { stage: this.planned.name, copy: this.copy };
    if (this.exit) return Promise.reject(this.exitError(location));
    const id = this.nextId++;
    return new Promise<StageOutput>((resolve, reject) => {
      this.pending.set(id, { location, resolve, reject });
      this.send({ ...message, id }, payload);
    });
  }

  /** Ask the child to finish its queue and exit 0. */
  requestClose(): void {
    this.expectExit = true;
    if (this.alive) this.send({ type: 'close' }, []);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.proc && this.exit === undefined) this.proc.kill(signal);
  }

  /** Reject everything waiting with `err` now (abort); the exit that follows is quiet. */
  abandon(err: SluiceError): void {
    this.expectExit = true;
    this.abandoned = err;
    this.ready?.reject(err);
    this.ready = undefined;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!this.proc) this.markExited({ code: null, signal: null }); // never spawned: nothing to wait for
  }

  exitError(location: BatchLocation): WorkerExitError {
    const status = this.exit ?? { code: null, signal: null };
    const lines = [...(this.brokenReason ? [this.brokenReason] : []), ...(this.tail?.lines() ?? [])];
    const detail = lines.length ? `\n  ${lines.join('\n  ')}` : undefined;
    return new WorkerExitError(location, { exitCode: status.code, signal: status.signal, detail });
  }

  private send(message: MainToChild, payload: Uint8Array[]): void {
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
        this.ready?.resolve();
        this.ready = undefined;
        return;
      case 'result': {
        const p = this.take(message.id);
        this.peakRssBytes = Math.max(this.peakRssBytes, message.maxRss ?? 0);
        this.bytesSerialized += payload.byteLength;
        const slab = isSlab(payload.buffer) ? payload.buffer : undefined;
        try {
          p.resolve({ batches: decodeBatches(payload), lease: slab && leaseOf([slab]) });
        } catch (err) {
          if (slab) release(slab);
          p.reject(new StageError(p.location, 'process', new Error(`cannot decode the child's output as Arrow IPC: ${(err as Error).message}`)));
        }
        return;
      }
      case 'failed': {
        const cause = deserializeError(message.error);
        if (message.id === undefined) {
          this.ready?.reject(new StageError({ stage: this.planned.name, copy: this.copy }, message.phase, cause));
          this.ready = undefined;
          return;
        }
        const p = this.take(message.id);
        p.reject(new StageError(p.location, message.phase, cause));
        return;
      }
    }
  }

  private take(id: number): Pending {
    const p = this.pending.get(id);
    if (!p) throw new Error(`child answered unknown task id ${id}`);
    this.pending.delete(id);
    return p;
  }

  /** The task the child last said it started (see RUNNING_TASK). */
  private running: number | undefined;

  /** Settles when the frame channel has delivered everything the child sent (EOF or failure). */
  private channelDrained: Promise<void> = Promise.resolve();

  private wireChannel(channel: Socket): void {
    this.channelDrained = new Promise<void>((resolve) => {
      channel.once('end', resolve);
      channel.once('close', resolve);
      channel.once('error', () => resolve());
    });
    // The channel ends first when the child dies (EOF, or EPIPE / ECONNRESET mid-write);
    // its exit follows and reports the death. Only a child that lives on without its
    // channel is broken.
    let reason: string | undefined;
    const suspect = (why: string) => {
      if (reason !== undefined || this.exit !== undefined || this.expectExit) return;
      reason = why;
      const timer = setTimeout(() => {
        if (this.exit === undefined && !this.expectExit) this.breakChannel(reason!);
      }, DRAIN_GRACE_MS);
      void this.exited.then(() => clearTimeout(timer));
    };
    channel.on('error', (err) => suspect(`its frame channel failed: ${err.message}`));
    channel.on('close', () => suspect('its frame channel closed'));
  }

  /** The channel is unusable while the process lives: kill it; the exit reports why. */
  private breakChannel(reason: string): void {
    if (this.brokenReason !== undefined) return;
    this.brokenReason = reason;
    this.proc?.kill('SIGKILL');
  }

  private wireExit(proc: ChildProcess): void {
    let status: ChildExit | undefined;
    let timer: NodeJS.Timeout | undefined;
    let reporting = false;
    const report = () => {
      if (this.exit || !status || reporting) return;
      reporting = true;
      clearTimeout(timer);
      // Results the child sent before it died may still wait in the channel: read them first,
      // so the batch named is the one the child was working on, not one it had finished.
      const grace = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_GRACE_MS).unref());
      void Promise.race([this.channelDrained, grace]).then(() => reportNow(status!));
    };
    const reportNow = (status: ChildExit) => {
      this.exit = status;
      this.channel?.destroy();
      // The task it was running first (when unanswered); then the others, oldest first.
      const pending = [...this.pending.entries()].sort(([a], [b]) => (a === this.running ? -1 : b === this.running ? 1 : a - b));
      const errors = pending.map(([, p]) => [p, this.exitError(p.location)] as const);
      this.pending.clear();
      const startErr = this.exitError({ stage: this.planned.name, copy: this.copy });
      this.ready?.reject(startErr);
      this.ready = undefined;
      for (const [p, err] of errors) p.reject(err);
      this.markExited(status);
      this.onGone(this, errors[0]?.[1] ?? startErr);
    };
    // After 'exit' its last log lines may still be in the pipe (a stage that logged a lot just
    // before it finished, while main writes its own stderr slowly): wait for 'close', for as
    // long as output still flows; only a pipe that stays quiet (a grandchild holding it open)
    // is given up on after DRAIN_GRACE_MS.
    let lastOutput = performance.now();
    proc.stdout?.on('data', () => (lastOutput = performance.now()));
    proc.stderr?.on('data', () => (lastOutput = performance.now()));
    let exitedAt = 0;
    const reportWhenQuiet = () => {
      const now = performance.now();
      const quietFor = now - lastOutput;
      if (quietFor >= DRAIN_GRACE_MS || now - exitedAt >= DRAIN_MAX_MS) report();
      else timer = setTimeout(reportWhenQuiet, DRAIN_GRACE_MS - quietFor);
    };
    proc.on('exit', (code, signal) => {
      status ??= { code, signal };
      lastOutput = exitedAt = performance.now();
      timer = setTimeout(reportWhenQuiet, DRAIN_GRACE_MS);
    });
    proc.on('close', (code, signal) => {
      status ??= { code, signal };
      report();
    });
    proc.on('error', (err) => {
      // spawn failed: there may be no process to wait for.
      this.tail?.keep(`spawn failed: ${err.message}`);
      status ??= { code: null, signal: null };
      report();
    });
  }
}
