import { ProgressDisplay } from '../../../src/cli/progress';
import { createRootLogger } from '../../../src/log';
import { renderReport } from '../../../src/cli/report';
import type { RunReport } from '../../../src/runtime/types';

describe('progress display', () => {
  it('draws one line per stage with rows/s, queue depth and busy copies, redrawing in place', () => {
    const written: string[] = [];
    const out = { write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const display = new ProgressDisplay(out);
    const snapshot = {
      elapsedMs: 1500,
      source: { rows: 1000, batches: 2, done: false },
      stages: [{ name: 'hash', rowsOut: 800, rowsPerSec: 400, queueDepth: 3, inFlight: 2, busy: 2, copies: 2, done: false }],
      sink: { rows: 500, queueDepth: 1 },
    };
    display.update(snapshot);
    expect(written.join('')).toMatch(/hash\s+800 rows\s+400 rows\/s\s+queue 3\s+busy 2\/2/);
    display.update(snapshot);
    expect(written[1]).toBe('\x1b[4A\x1b[0J'); // moved up over the 4 lines drawn before
    display.clear();
    expect(written[written.length - 1]).toBe('\x1b[4A\x1b[0J');
  });
});

/** A terminal that knows the display's one sequence: cursor up n lines and erase below. */
function terminal() {
  const screen: string[] = [];
  const out = {
    write: (s: string) => {
      const up = /^\x1b\[(\d+)A\x1b\[0J$/.exec(s);
      if (up) screen.splice(screen.length - Number(up[1]));
      else screen.push(...s.replace(/\n$/, '').split('\n'));
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { screen, out };
}

describe('log lines while the display is shown', () => {
  const snapshot = (rows: number) => ({
    elapsedMs: 1500,
    source: { rows, batches: 2, done: false },
    stages: [{ name: 'hash', rowsOut: rows, rowsPerSec: 400, queueDepth: 3, inFlight: 2, busy: 2, copies: 2, done: false }],
    sink: { rows, queueDepth: 1 },
  });

  it('go above it, and the display leaves nothing behind (it erases itself around each line)', () => {
    const { screen, out } = terminal();
    const display = new ProgressDisplay(out);
    const log = createRootLogger({ level: 'info', destination: out, around: (write) => display.around(write) });
    display.update(snapshot(100));
    log.info({ stage: 'aggregate' }, 'aggregated');
    expect(screen[0]).toContain('"msg":"aggregated"'); // the line above the display, not inside it
    display.update(snapshot(200));
    log.warn('second line');
    display.update(snapshot(300));
    display.clear();
    // Only the two log lines are left: no line of any display drawn before.
    expect(screen).toHaveLength(2);
    expect(screen[1]).toContain('"msg":"second line"');
  });

  it('(written past the display instead, the next redraw erases the log line and leaves the old headline on the screen)', () => {
    const { screen, out } = terminal();
    const display = new ProgressDisplay(out);
    const log = createRootLogger({ level: 'info', destination: out });
    display.update(snapshot(100));
    log.info('aggregated');
    display.update(snapshot(200));
    display.clear();
    expect(screen.some((line) => line.includes('elapsed'))).toBe(true);
    expect(screen.some((line) => line.includes('aggregated'))).toBe(false);
  });
});

describe('run report', () => {
  it('shows per-stage rows, batches, bytes, busy, idle and blocked time, copies and the error', () => {
    const report: RunReport = {
      pipeline: 'p',
      ok: false,
      startedAt: '2026-11-24T00:00:00.000Z',
      durationMs: 2000,
      startupMs: 500,
      source: { rows: 100, batches: 2, bytes: 4096, files: 1, busyMs: 10, blockedMs: 5 },
      stages: [
        { name: 'hash', mode: 'thread', copies: 2, rowsIn: 100, rowsOut: 90, batchesIn: 2, batchesOut: 2, bytesIn: 4096, bytesOut: 2048, busyMs: 1500, idleMs: 300, blockedMs: 200, peakInFlight: 2, waits: { 'idle: no input': 300, 'held: output full': 200 }, transport: { bytesCopied: 0, bytesPacked: 4096, bytesSerialized: 0 } },
      ],
      sink: { rows: 90, batches: 2, bytes: 2048, path: '/out', files: [], busyMs: 3 },
      channels: [{ name: 'source→hash', capacity: 4, capacityBytes: 1 << 20, peakDepth: 3, peakBytes: 3000 }],
      peakRssBytes: 100 << 20,
      error: { code: 'SLUICE_STAGE_FAILED', message: 'stage "hash" failed' },
    };
    const text = renderReport(report);
    expect(text).toMatch(/^✖ p: 100 rows from 1 file\(s\) → 90 rows in 2\.00 s/);
    expect(text).toMatch(/hash\s+thread\s+2\s+100 \/ 2\s+90\s+2\s+2\.0 KiB\s+1\.50 s\s+300 ms\s+200 ms\s+2/);
    expect(text).toContain('hash: transport copied 0 B, packed 4.0 KiB');
    expect(text).toContain('channel source→hash: peak 3/4 batches');
    expect(text).toContain('error: stage "hash" failed');
  });
});
