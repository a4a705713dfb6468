/**
 * When is a stage's child process gone, as far as its results and last words go? Its exit
 * comes before the frame channel and its pipes have delivered everything it sent: the
 * results it finished are read first (so the batch named is the one it was working on) and
 * its last log lines too, for as long as they still flow, but never forever (a grandchild
 * holding the inherited pipe open).
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { CopyExit } from './types';

/** After 'exit', how long the pipes may stay quiet before reporting without their 'close'. */
export const DRAIN_GRACE_MS = 250;
/** ...and how long at most, however much still flows (a grandchild writing to the inherited pipe forever). */
const DRAIN_MAX_MS = 10_000;
/** After SIGKILL, how long to wait for the kernel to stop the child and Node to reap it before giving up on it. */
export const REAP_MS = 10_000;

/** Settles when the frame channel has delivered everything the child sent (EOF or failure). */
export function channelDrained(channel: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    channel.once('end', resolve);
    channel.once('close', resolve);
    channel.once('error', () => resolve());
  });
}

/**
 * The channel ends first when the child dies (EOF, or EPIPE / ECONNRESET mid-write); its exit
 * follows and reports the death. Only a child that lives on without its channel is broken:
 * `broken(why)` then, unless it exited (or was asked to) within DRAIN_GRACE_MS.
 */
export function watchChannel(channel: Socket, still: { exited: Promise<unknown>; expected(): boolean }, broken: (why: string) => void): void {
  let reason: string | undefined;
  const suspect = (why: string) => {
    if (reason !== undefined || still.expected()) return;
    reason = why;
    const timer = setTimeout(() => {
      if (!still.expected()) broken(reason!);
    }, DRAIN_GRACE_MS);
    void still.exited.then(() => clearTimeout(timer));
  };
  channel.on('error', (err) => suspect(`its frame channel failed: ${err.message}`));
  channel.on('close', () => suspect('its frame channel closed'));
}

/**
 * Calls `gone` once with the child's exit status, after its channel drained (or
 * DRAIN_GRACE_MS) and its pipes went quiet or closed (at most DRAIN_MAX_MS after the exit).
 */
export function watchExit(proc: ChildProcess, drained: () => Promise<void>, onSpawnError: (err: Error) => void, gone: (exit: CopyExit) => void): void {
  let status: CopyExit | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reporting = false;
  const report = () => {
    if (!status || reporting) return;
    reporting = true;
    clearTimeout(timer);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_GRACE_MS).unref());
    void Promise.race([drained(), grace]).then(() => gone(status!));
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
  proc.on('exit', (exitCode, signal) => {
    status ??= { exitCode, signal };
    lastOutput = exitedAt = performance.now();
    timer = setTimeout(reportWhenQuiet, DRAIN_GRACE_MS);
  });
  proc.on('close', (exitCode, signal) => {
    status ??= { exitCode, signal };
    report();
  });
  proc.on('error', (err) => {
    // spawn failed: there may be no process to wait for.
    onSpawnError(err);
    status ??= { exitCode: null, signal: null };
    report();
  });
}
