/**
 * When the run's process dies where no JavaScript runs any more (V8 out of memory, a crash in
 * native code, SIGKILL), nothing in it can say which stage was running: the user saw a raw
 * "heap out of memory" abort. A small watcher process (watcher.cjs) is told, over a pipe,
 * which inline stage work starts and ends, and "done" when the process exits by itself; a
 * pipe that closes without "done" makes it say what was running, and write the failed
 * --report and --metrics. Writes are synchronous and a few bytes per task, so the last word
 * is never lost in a buffer.
 *
 * The facts the watcher's verdict rests on (the sink committed, the run wrote its own report
 * and metrics, it exited by itself) are files in a private state directory, written before
 * the step they vouch for: a pipe to a stopped watcher fills up and drops lines, and a
 * verdict from a partial stream would turn a committed run into "Nothing was committed".
 * The params reach the watcher in that directory (mode 0600), never on its command line.
 *
 * The commit itself is a rename per sink, and a kill can come between them and any marker
 * written after them. So the run writes `committing` (each sink's temporary and target, and the
 * metrics of a run that died committed, or with its commit pending) just before the first
 * rename, and the watcher looks at the disk: every temporary gone (renamed to its target) means
 * committed; with several sinks, some renamed, or the commit journal whole beside every target
 * (the rule `sluice recover` decides by, io/sinks/journal.ts), means decided but not finished:
 * recover publishes the rest; else nothing was committed. A commit that fails before its first
 * rename takes the marker back before its temporaries are removed (the run's teardown).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onInlineWork, type InlineWork } from '../executors/inline-context';
import { diedAfterCommit, failedBeforeRun, renderOpenMetrics } from './metrics-file';

const WATCHER = path.join(__dirname, 'watcher.cjs');

/**
 * The light watch: `sh` keeps the pipe's lines in the state directory (`cat`, which drains the
 * pipe as the node watcher does) and, once the pipe closes, ends at once if the run said it
 * exited by itself, or else becomes the node watcher (`exec`: same pid) to replay the lines
 * and speak. A run that ends by itself (nearly every run) then starts no second node process,
 * about 0.13 CPU-s of a short run. Arguments: run pid, state directory, node, watcher.cjs.
 */
export const LIGHT_WATCH = 'cat >"$2/lines"; [ -e "$2/exited" ] && exec rm -rf "$2"; exec "$3" "$4" "$1" "$2" --replay </dev/null';

const describe = (w: InlineWork) =>
  `stage "${w.stage}" (inline) in ${w.phase}()${w.seq !== undefined ? ` on batch #${w.seq}` : ''}${w.sourceFile ? ` from ${w.sourceFile}` : ''}`;

/** What the run tells its watcher as it goes; each call is a marker file, written synchronously. */
export interface DeathWatch {
  /** The sinks are about to rename each `temp` to its `target` (`rows` rows): from the renames (or a whole journal) on, a death lost no output. */
  committing(publish: readonly { temp: string; target: string; rows: number; sink?: string }[]): void;
  /** The commit announced failed (its temporaries are removed next): unless a rename happened, forget it. */
  commitFailed(): void;
  /** The sink committed `files`: a death from now on lost no output. Call before anything else follows the commit. */
  committed(files: readonly string[]): void;
  /**
   * The run is about to rename `tmp`, its own --report or --metrics file written whole, into
   * place: once the file there is `tmp` (same inode), the watcher leaves it alone. Said before
   * the rename, as a kill can come right after it; a kill before it leaves the old file, which
   * the watcher then replaces.
   */
  writing(what: 'report' | 'metrics', tmp: string): void;
}

const NO_WATCH: DeathWatch = { committing: () => undefined, commitFailed: () => undefined, committed: () => undefined, writing: () => undefined };

/** The rule the watcher applies too (watcher.cjs `published`): the temporary is gone, or is the target itself (a hard link). */
function published(temp: string, target: string): boolean {
  if (!existsSync(temp)) return existsSync(target);
  const a = statSync(temp, { throwIfNoEntry: false });
  const b = statSync(target, { throwIfNoEntry: false });
  return a !== undefined && b !== undefined && a.ino === b.ino && a.dev === b.dev;
}

/**
 * `report`, `metrics`: the `--report` and `--metrics` files, which the watcher writes (a
 * failure) if the run dies before writing them itself. `deadlines`: an inline stage has a
 * timeout, which the watcher enforces while the run lives (a busy loop holds the main
 * thread), so the node watcher runs from the start; otherwise the light watch (LIGHT_WATCH).
 */
export function startDeathWatch(opts: { report?: string; metrics?: string; pipeline: string; params?: Readonly<Record<string, unknown>>; deadlines?: boolean }): DeathWatch {
  let dir: string;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-watch-')); // mode 0700
    const died = renderOpenMetrics(failedBeforeRun(opts.pipeline));
    const run = { report: opts.report && path.resolve(opts.report), metrics: opts.metrics && path.resolve(opts.metrics), metricsText: died, pipeline: opts.pipeline, params: opts.params ?? {} };
    writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run), { mode: 0o600, flag: 'wx' });
  } catch {
    return NO_WATCH; // no state directory: the run goes on, as it did before there was a watcher
  }
  const marker = (name: string, text = '') => {
    try {
      writeFileSync(path.join(dir, name), text, { mode: 0o600 });
    } catch {
      // the directory is gone (a cleaner of /tmp): the watcher then speaks as without markers
    }
  };
  const light = !opts.deadlines && process.platform !== 'win32';
  const child = light
    ? spawn('/bin/sh', ['-c', LIGHT_WATCH, 'sluice-watch', String(process.pid), dir, process.execPath, WATCHER], { stdio: ['pipe', 'ignore', 'inherit'] })
    : spawn(process.execPath, [WATCHER, String(process.pid), dir], { stdio: ['pipe', 'ignore', 'inherit'] });
  // No watcher: the run goes on, as it did before there was one, and leaves no state behind.
  child.on('error', () => rmSync(dir, { recursive: true, force: true }));
  // The pipe's own descriptor, written synchronously: an async write could still sit in a
  // buffer when the process dies.
  const fd = (child.stdin as unknown as { _handle?: { fd?: number } })._handle?.fd;
  const send = (line: string) => {
    if (fd === undefined || fd < 0) return;
    try {
      writeSync(fd, line + '\n');
    } catch {
      // the watcher is gone (or its pipe is full): the run does not depend on it
    }
  };
  // `+<id>@<ms>`: the work's timeout; past it (and a grace) the watcher ends a run whose main thread stopped answering.
  onInlineWork((event, id, work) => send(event === 'start' ? `+${id}${work.timeoutMs !== undefined ? `@${work.timeoutMs}` : ''} ${describe(work)}` : `-${id}`));
  process.on('exit', () => {
    marker('exited');
    send('done');
  });
  // Neither the watcher nor its pipe keeps this process alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  let announced: { temp: string; target: string }[] = [];
  return {
    committing: (publish) => {
      announced = publish.map(({ temp, target }) => ({ temp, target }));
      marker(
        'committing',
        JSON.stringify({
          publications: announced,
          metricsText: renderOpenMetrics(diedAfterCommit(opts.pipeline, publish)),
          metricsPending: renderOpenMetrics(diedAfterCommit(opts.pipeline, publish, true)),
        }),
      );
    },
    commitFailed: () => {
      // A rename happened (a commit of several stopped half-way, its journal kept): the marker stays, the commit is recover's to finish.
      if (!announced.some((p) => published(p.temp, p.target))) rmSync(path.join(dir, 'committing'), { force: true });
    },
    committed: (files) => marker('committed', JSON.stringify(files)),
    writing: (what, tmp) => {
      const st = statSync(tmp, { throwIfNoEntry: false });
      marker(what, st ? JSON.stringify({ dev: st.dev, ino: st.ino }) : '');
    },
  };
}
