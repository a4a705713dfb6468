/**
 * Hang limits that hold on a busy machine. A test's "it hangs if it takes longer than 30 s"
 * means 30 s of a fair share of the CPU: on a 2-core machine with 30 runnable threads (the
 * suite beside a second copy of itself, or beside a build), a run that takes 3 s alone takes a
 * minute of wall time and is not hung. A fixed wall-clock limit there fails healthy runs (the
 * suite's flakes under load were all such limits), and raising it blindly slows every real
 * hang down. So limits are counted on a clock that runs at the share of a core a runnable
 * thread gets now: the number of runnable threads is read from /proc/loadavg (its 4th field,
 * "running/total", is instantaneous, unlike the 1/5/15-minute averages), every quarter second.
 *
 * CommonJS so jest.config.js can use it as well as the tests (through fair-clock.ts).
 */
const { readFileSync } = require('node:fs');
const os = require('node:os');

const CORES = Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
/** Past this many times the limit in wall time, a limit fires whatever the load. */
const MAX_STRETCH = 20;
const TICK_MS = 250;

/** The share of a core a runnable thread gets now (1 on an idle machine, or where /proc is not). */
function cpuShare() {
  try {
    const running = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3].split('/')[0]);
    return running > CORES ? CORES / running : 1;
  } catch {
    return 1;
  }
}

/** How much longer than on an idle machine things take now (1-minute load average; ≥ 1). */
function loadStretch() {
  const [load1] = os.loadavg();
  return Math.min(MAX_STRETCH, Math.max(1, load1 / CORES));
}

/**
 * Calls `onFire` once `ms` of fair-share time have passed (or MAX_STRETCH × ms of wall time);
 * returns a function that cancels it. The timer is unref'd: it never keeps a process alive.
 */
function fairTimeout(ms, onFire) {
  let fair = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    fair += TICK_MS * cpuShare();
    if (fair >= ms || Date.now() - started >= ms * MAX_STRETCH) {
      clearInterval(timer);
      onFire();
    }
  }, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Resolves once `ready()` is true; rejects after `ms` of fair-share time with `what` in the message. */
async function waitFor(ready, what, ms) {
  let expired = false;
  const cancel = fairTimeout(ms, () => (expired = true));
  try {
    while (!(await ready())) {
      if (expired) throw new Error(`timed out waiting for ${what} (${ms / 1000} s of a fair share of the CPU)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    cancel();
  }
}

module.exports = { cpuShare, loadStretch, fairTimeout, waitFor, CORES };
