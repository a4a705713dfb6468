/**
 * A copy on a plain worker thread that talks in messages (the source thread, a Parquet
 * encoder thread). Its death is watched here: an uncaught error or an exit nobody asked for
 * is the copy's one death signal, never a hang.
 */
import { Worker } from 'node:worker_threads';
import { copyEntry, copyExecArgv } from '../loader';
import { settlesWithin, type Copy, type CopyExit } from './types';
import { FirstFatal } from './first-fatal';

export interface ThreadCopyOptions<Out> {
  /** The entry (a .cjs that requires the TypeScript one: the loader compiles it). */
  entry: string;
  workerData?: unknown;
  copy?: number;
  /** close(): the message that asks the thread to finish, and how long it may take before it is terminated. */
  closeMessage?: Out;
  closeGraceMs?: number;
  /**
   * Keep Node running only while the thread owes a reply (`expectReply` … `replied`), not
   * while it idles: a run that waits on nothing else (an inline stage's promise that never
   * settles) must let Node run out of work, which the run guard reports as a stall. An idle
   * thread that kept the process alive turned that into a hang (the Parquet encoder did).
   */
  refWhileOwed?: boolean;
  /**
   * Node tracks the descriptors a thread opens, closes them when it exits, and warns when the
   * thread closes one it did not open. False for a thread that closes what another opened (the
   * staging thread: io/units/staging-thread.ts).
   */
  trackUnmanagedFds?: boolean;
}

export class ThreadCopy<Out, In> implements Copy {
  readonly copy: number;
  exit: CopyExit | undefined;
  private worker_: Worker | undefined;
  private error: unknown;
  private asked = false;
  /** The one death signal, also for a listener registered after it (first-fatal.ts). */
  private readonly deaths = new FirstFatal<CopyExit>();
  private readonly messageListeners: Array<(m: In) => void> = [];
  private markExited!: () => void;
  /** Replies the thread owes (refWhileOwed), by the caller's key; `pinned` once it is asked to close. */
  private readonly owed = new Set<string>();
  private pinned = false;
  /** Resolves once the thread is gone. */
  readonly exited = new Promise<void>((resolve) => (this.markExited = resolve));

  constructor(private readonly opts: ThreadCopyOptions<Out>) {
    this.copy = opts.copy ?? 0;
  }

  get alive(): boolean {
    return this.worker_ !== undefined && this.exit === undefined;
  }

  /** The thread itself (ref/unref, tests). */
  get worker(): Worker {
    if (!this.worker_) throw new Error('ThreadCopy used before start()');
    return this.worker_;
  }

  /** Starts the thread; it takes messages at once (they wait in its port until it listens). */
  async start(): Promise<void> {
    const worker = (this.worker_ ??= new Worker(copyEntry(this.opts.entry), { execArgv: copyExecArgv(), workerData: this.opts.workerData, trackUnmanagedFds: this.opts.trackUnmanagedFds ?? true }));
    worker.on('message', (m: In) => this.messageListeners.forEach((l) => l(m)));
    worker.on('error', (err) => (this.error ??= err));
    worker.on('exit', (exitCode) => {
      this.exit = { exitCode, signal: null, ...(this.error !== undefined && { error: this.error }) };
      this.markExited();
      if (!this.asked) this.deaths.report(this.exit!);
    });
    this.holdLoop(); // after the listeners: adding a 'message' listener refs the worker again
  }

  /** A message just sent (or about to be) will be answered under `key`: Node waits for it. */
  expectReply(key: string): void {
    this.owed.add(key);
    this.holdLoop();
  }

  /** The reply under `key` came. */
  replied(key: string): void {
    if (this.owed.delete(key)) this.holdLoop();
  }

  private holdLoop(): void {
    if (!this.opts.refWhileOwed || !this.worker_ || this.exit) return;
    if (this.owed.size > 0 || this.pinned) this.worker_.ref();
    else this.worker_.unref();
  }

  send(message: Out, transfer?: ArrayBuffer[]): void {
    if (this.alive) this.worker.postMessage(message, transfer);
  }

  onMessage(listener: (m: In) => void): void {
    this.messageListeners.push(listener);
  }

  onDeath(listener: (exit: CopyExit) => void): void {
    this.deaths.listen(listener);
  }

  /** Sends the close message, waits for the exit (or `done`, or the grace time), then terminates. */
  async close(done?: Promise<unknown>): Promise<void> {
    this.asked = true;
    this.pin();
    if (!this.alive) return;
    if (this.opts.closeMessage !== undefined) {
      this.send(this.opts.closeMessage);
      await settlesWithin(done ? Promise.race([done, this.exited]) : this.exited, this.opts.closeGraceMs ?? 5_000);
    }
    await this.kill();
  }

  /** From now on the thread keeps Node running until it exits (its stop is awaited). */
  pin(): void {
    this.pinned = true;
    this.holdLoop();
  }

  async kill(): Promise<void> {
    this.asked = true;
    this.pin();
    if (!this.worker_) return;
    if (this.alive) await this.worker.terminate();
    await this.exited.catch(() => undefined);
  }
}
