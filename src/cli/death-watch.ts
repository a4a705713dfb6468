/**
 * When the run's process dies where no JavaScript runs any more (V8 out of memory, a crash in
 * native code, SIGKILL), nothing in it can say which stage was running: the user saw a raw
 * "heap out of memory" abort. A small watcher process (watcher.cjs) is told, over a pipe,
 * which inline stage work starts and ends, and "done" when the process exits by itself; a
 * pipe that closes without "done" makes it say what was running. Writes are synchronous and
 * a few bytes per task, so the last word is never lost in a buffer.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import path from 'node:path';
import { onInlineWork, type InlineWork } from '../executors/inline-context';

const WATCHER = path.join(__dirname, 'watcher.cjs');

const describe = (w: InlineWork) =>
  `stage "${w.stage}" (inline) in ${w.phase}()${w.seq !== undefined ? ` on batch #${w.seq}` : ''}${w.sourceFile ? ` from ${w.sourceFile}` : ''}`;

/** `report`: the `--report` file, which the watcher writes (ok: false) if the run dies. */
export function startDeathWatch(opts: { report?: string; pipeline: string; params?: Readonly<Record<string, unknown>> }): void {
  const args = [WATCHER, String(process.pid), opts.report ? path.resolve(opts.report) : '', opts.pipeline, JSON.stringify(opts.params ?? {})];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'ignore', 'inherit'] });
  child.on('error', () => undefined); // no watcher: the run goes on, as it did before there was one
  // The pipe's own descriptor, written synchronously: an async write could still sit in a
  // buffer when the process dies.
  const fd = (child.stdin as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return;
  const send = (line: string) => {
    try {
      writeSync(fd, line + '\n');
    } catch {
      // the watcher is gone (or its pipe is full): the run does not depend on it
    }
  };
  onInlineWork((event, id, work) => send(event === 'start' ? `+${id} ${describe(work)}` : `-${id}`));
  process.on('exit', () => send('done'));
  // Neither the watcher nor its pipe keeps this process alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
}
