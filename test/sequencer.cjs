/**
 * The order jest starts test files in (jest.config.js `testSequencer`): the slowest first, so
 * the two workers of a 2-core machine finish together instead of one running the failure
 * matrix alone at the end.
 *
 * Jest's own sequencer orders by the durations it cached on this machine, and without a cache
 * (a clean clone: every CI run) by file size, which starts the slowest e2e files late. Here a
 * file's duration is jest's cached one when there is one, else the committed estimate in
 * test/slow-files.json (seconds, measured on a 2-core machine; refresh it with
 * `node scripts/test-timings.mjs` after a full `npx jest` run). Files in neither come after
 * the known ones, largest first as jest would; a file that failed last time still comes first.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ESTIMATES = require('./slow-files.json');

class SlowFirstSequencer extends Sequencer {
  /** Milliseconds: jest's cached duration, else the committed estimate, else undefined. */
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = ESTIMATES[path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/')];
    return seconds == null ? undefined : seconds * 1000;
  }

  sort(tests) {
    const size = new Map();
    const sizeOf = (t) => (size.has(t.path) ? size.get(t.path) : size.set(t.path, t.context.hasteFS.getSize(t.path) ?? 0).get(t.path));
    for (const t of tests) t.duration = this.time(t);
    return [...tests].sort((a, b) => {
      const failed = Number(this.hasFailed(b)) - Number(this.hasFailed(a));
      if (failed !== 0) return failed;
      if ((a.duration == null) !== (b.duration == null)) return a.duration == null ? 1 : -1; // known durations first
      if (a.duration != null && a.duration !== b.duration) return b.duration - a.duration;
      return sizeOf(b) - sizeOf(a) || (a.path < b.path ? -1 : 1);
    });
  }
}

module.exports = SlowFirstSequencer;
