/**
 * Where the suite's CPU goes, file by file (opt-in: SLUICE_TEST_CPU_LEDGER=<file.ndjson> npx jest).
 * A jest worker runs its test files one after another, so the CPU its process used between this
 * file's setup and its last afterAll is that file's: its own threads (utime/stime) and the
 * processes it started and reaped, with theirs (cutime/cstime): from its start to the next file's
 * start in the same worker (what its own afterAll hooks reap counts), or to its end for a
 * worker's last file. A line per start and end; summarise with
 * `node scripts/test-cpu.mjs <file.ndjson>`.
 */
const ledger = process.env.SLUICE_TEST_CPU_LEDGER;
// A jest that a test starts without injected globals (test/unit/testing/jest-no-globals) inherits
// the variable: its files are in their parent's count already.
if (ledger && typeof expect !== 'undefined') {
  const { appendFileSync, readFileSync } = require('node:fs');
  const TICK = 100; // USER_HZ on Linux
  const times = () => {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": state is f[0]
    return { user: +f[11] / TICK, sys: +f[12] / TICK, cuser: +f[13] / TICK, csys: +f[14] / TICK };
  };
  const file = require('node:path').relative(process.cwd(), expect.getState().testPath ?? '?');
  const mark = (at) => appendFileSync(ledger, JSON.stringify({ pid: process.pid, file, at, t: Date.now(), ...times() }) + '\n');
  mark('start');
  afterAll(() => mark('end'));
}
