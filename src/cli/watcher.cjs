'use strict';
// The death watch's other half (see death-watch.ts): a tiny process that holds the last word
// of a `sluice run`. Lines on stdin: "+<id> <what>" (inline work started), "-<id>" (ended),
// "done" (the run's process is exiting by itself). If stdin closes without "done", the run's
// process died where no JavaScript could speak (out of memory, a native crash, SIGKILL):
// say what it was running, then exit at once. Plain CommonJS: it starts in ~30 ms.
//
// It runs from the start only for a run with an inline stage that has a `timeout` (its
// deadlines need a live process). Otherwise the light watch (death-watch.ts) keeps the pipe's
// lines in the state directory with `sh` and `cat`, and starts this file with `--replay` only
// if the run died: a run that ends by itself starts no second node process.
//
// Arguments are the run's pid and its state directory (mode 0700), never the params: a
// command line is visible to every local user (ps), and params may hold secrets. What the
// watcher needs (the report and metrics files, the pipeline, the params) is in run.json in
// that directory (mode 0600), read and removed at once. The run also leaves markers there,
// written before the step they vouch for is left behind, which a pipe cannot be trusted
// with (a stopped watcher's pipe fills up and lines are dropped):
//   committing the sinks are about to rename their temporaries to their targets (JSON:
//              publications [{temp, target}], the metrics of a run that died committed, and of
//              one that died with its commit pending): the renames are the commit, and a kill
//              can come right after one, before any marker; so the disk decides, by the rule
//              `sluice recover` follows (io/sinks/journal.ts): every temporary gone (renamed)
//              means committed; with several sinks, one renamed, or the commit journal whole
//              (a copy beside every target, each naming all), means decided, not finished:
//              recover publishes the rest; else nothing was committed
//   committed  the sink committed (its files, JSON): a death after it lost no output
//   report     the run is renaming its own --report into place (JSON: dev and ino of its
//              temporary): once the file there is that one, the watcher leaves it as it is;
//              a kill before the rename left the old file, which the watcher replaces
//   metrics    the same for the --metrics file
//   exited     the run's process is exiting by itself ("done", even if the pipe lost it)
const fs = require('node:fs');
const path = require('node:path');

const runPid = Number(process.argv[2]);
const dir = process.argv[3] || undefined;
let run = {};
if (dir) {
  try {
    run = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
  } catch (err) {
    process.stderr.write(`sluice: the death watch cannot read its run file: ${err.message}\n`);
  }
  fs.rmSync(path.join(dir, 'run.json'), { force: true });
}
const { report: reportFile, metrics: metricsFile, metricsText, pipeline, params = {} } = run;
const marker = (name) => (dir ? path.join(dir, name) : '');
const has = (name) => Boolean(dir) && fs.existsSync(marker(name));

const running = new Map();
/** Deadlines of inline work with a `timeout` ("+<id>@<ms> <what>"), by id. */
const deadlines = new Map();
/** How long past an inline stage's timeout the main thread may stay silent before the run is killed. */
const STUCK_GRACE_MS = 3000;
/** Set when the watcher ended the run: the inline work whose deadline passed. */
let stuck;
let done = false;
let rest = '';
/** The lines of the run's pipe, as they come (or, replayed, all at once from the file the light watch kept). */
function feed(text) {
  const lines = (rest + text).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    if (line === 'done') done = true;
    else if (line[0] === '+') {
      const space = line.indexOf(' ');
      const [id, ms] = line.slice(1, space).split('@');
      const what = line.slice(space + 1);
      running.set(id, what);
      if (ms !== undefined) deadlines.set(id, setTimeout(() => stop(what, Number(ms)), Number(ms) + STUCK_GRACE_MS));
    } else if (line[0] === '-') {
      const id = line.slice(1);
      running.delete(id);
      clearTimeout(deadlines.get(id));
      deadlines.delete(id);
    }
  }
}

/**
 * Inline work outlived its timeout and the main thread did not end it (which it does for a
 * promise that never settles): the main thread is stuck (a busy loop), and no JavaScript in
 * the run can speak. Kill it; its pipe then closes and speak() says why.
 */
function stop(what, ms) {
  if (done || stuck) return;
  stuck = { what, ms };
  try {
    process.kill(runPid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Whole or not at all: a temporary sibling renamed over the file (which may be a FIFO or a link:
 * replaced, not written through). The mode is the run's rule (src/cli/whole-file.ts): an existing
 * file keeps its mode; a new one gets `newMode` (0600 for the report, which holds the params;
 * 0666 less the umask for the metrics, which hold neither params nor paths).
 */
function writeWhole(file, text, newMode) {
  const tmp = `${file}.${process.pid}.tmp`;
  const existing = fs.statSync(file, { throwIfNoEntry: false });
  const kept = existing && existing.isFile() ? existing.mode & 0o7777 : undefined;
  try {
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, text, { flag: 'wx', mode: kept ?? newMode });
    if (kept !== undefined) fs.chmodSync(tmp, kept);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Parsed JSON of a marker, or `fallback` if it cannot be read. */
function readMarker(name, fallback) {
  try {
    return JSON.parse(fs.readFileSync(marker(name), 'utf8'));
  } catch {
    return fallback;
  }
}

/** The rename happened: the temporary is gone (renamed to the target) or is the target itself (a hard link). Same rule as death-watch.ts. */
function published({ temp, target }) {
  if (typeof temp !== 'string' || typeof target !== 'string') return false;
  if (!fs.existsSync(temp)) return fs.existsSync(target);
  try {
    const a = fs.statSync(temp);
    const b = fs.statSync(target);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** The run's own `file` is in place: its marker names the file's inode (an empty marker: written, as older runs said). */
function ownFileInPlace(name, file) {
  if (!has(name)) return false;
  const own = readMarker(name, undefined);
  if (!own || typeof own !== 'object') return true;
  try {
    const st = fs.statSync(file);
    return st.ino === own.ino && st.dev === own.dev;
  } catch {
    return false;
  }
}

/**
 * This run's commit journal is whole: a copy beside each target (`.<name>.sluice-jrnl-<pid>-…`,
 * io/sinks/siblings.ts), and every copy the first one names exists. Then the commit is decided
 * and `sluice recover` (or the next run on any target) rolls it forward.
 */
function journalWhole(publications) {
  if (publications.length < 2) return false;
  const copyOf = (target) => {
    const prefix = `.${path.basename(target)}.sluice-jrnl-${runPid}-`;
    try {
      const name = fs.readdirSync(path.dirname(target)).find((n) => n.startsWith(prefix));
      return name && path.join(path.dirname(target), name);
    } catch {
      return undefined;
    }
  };
  const first = copyOf(publications[0].target);
  if (!first) return false;
  try {
    const { copies } = JSON.parse(fs.readFileSync(first, 'utf8'));
    return Array.isArray(copies) && copies.length === publications.length && copies.every((c) => typeof c === 'string' && fs.existsSync(c));
  } catch {
    return false;
  }
}

/** What the run's death left of its commit: 'committed', 'pending' (decided, recover finishes it) or 'none'; the targets; the marker. */
function commitState() {
  const committing = has('committing') ? readMarker('committing', {}) : undefined;
  if (has('committed')) return { state: 'committed', targets: readMarker('committed', []), committing };
  if (!committing) return { state: 'none', targets: [] };
  const publications = Array.isArray(committing.publications) ? committing.publications : [];
  const targets = publications.map((p) => p.target);
  const done = publications.map(published);
  if (publications.length && done.every(Boolean)) return { state: 'committed', targets, committing };
  if (done.some(Boolean) || journalWhole(publications)) return { state: 'pending', targets, committing };
  return { state: 'none', targets: [] };
}

function speak() {
  const { state, targets, committing } = commitState();
  const committed = state === 'committed' ? targets : undefined;
  const what = running.size ? [...running.values()].join('; ') : 'no stage code on the main thread';
  const message = stuck
    ? `the run (pid ${runPid}) was killed: its main thread stopped answering while running ${stuck.what}, past its timeout of ${stuck.ms} ms (an inline stage's busy loop cannot be interrupted on the main thread: use mode 'thread' or 'process', where a timeout kills and replaces the copy)`
    : state === 'committed'
      ? `the run (pid ${runPid}) died after committing its output (${targets.join(', ') || 'the sink'}): out of memory, a native crash or a kill; it was running ${what}`
      : state === 'pending'
        ? `the run (pid ${runPid}) died in the middle of committing ${targets.join(', ')}: out of memory, a native crash or a kill; its commit journal decides the commit, but not every output is published yet`
        : `the run (pid ${runPid}) died without a word: out of memory, a native crash or a kill; it was running ${what}`;
  process.stderr.write(
    state === 'committed'
      ? `sluice: ${message}. The output is complete and committed; the run's numbers were lost.\n`
      : state === 'pending'
        ? `sluice: ${message}. Run \`sluice recover\` on the pipeline (or run it again): it publishes the rest from the journal, and every output is then the new one.\n`
        : `sluice: ${message}. Nothing was committed; the next run on this sink path removes what it left.\n`,
  );
  if (reportFile && !ownFileInPlace('report', reportFile)) {
    const report = { pipeline, ok: false, params, ...(committed && { committed }), ...(state === 'pending' && { commitPending: targets }), error: { code: 'SLUICE_RUN_DIED', message } };
    try {
      // An .html report stays a page (without charts: the run's numbers died with it).
      const esc = (t) => String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      const text = /\.html?$/i.test(reportFile)
        ? `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>✖ ${esc(pipeline)} — sluice run report</title></head><body data-rendered="died"><h1>✖ ${esc(pipeline)}</h1><p>${esc(`SLUICE_RUN_DIED: ${message}`)}</p></body></html>\n`
        : JSON.stringify(report, null, 2) + '\n';
      writeWhole(reportFile, text, 0o600);
    } catch (err) {
      process.stderr.write(`sluice: cannot write the report ${reportFile}: ${err.message}\n`);
    }
  }
  // The previous run's "success 1" must not outlive this run's death; a committed output is said (committed 1, its rows).
  const metricsOut = (state === 'committed' && committing && committing.metricsText) || (state === 'pending' && committing.metricsPending) || metricsText;
  if (metricsFile && metricsOut && !ownFileInPlace('metrics', metricsFile)) {
    try {
      writeWhole(metricsFile, metricsOut, 0o666);
    } catch (err) {
      process.stderr.write(`sluice: cannot write the metrics file ${metricsFile}: ${err.message}\n`);
    }
  }
}

function end() {
  if (!done && !has('exited')) speak();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

if (process.argv[4] === '--replay') {
  // Started by the light watch (death-watch.ts LIGHT_WATCH) after the pipe closed without the
  // run's "exited" marker: the pipe's lines are in the state directory's `lines` file.
  try {
    feed(fs.readFileSync(marker('lines'), 'utf8'));
  } catch {
    // no lines kept: what was running is not known, the markers still decide the verdict
  }
  end();
} else {
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', feed);
  process.stdin.on('end', end);
}
