/**
 * The live display through a real terminal: `script` (util-linux, essential in Debian) gives
 * the run a pseudo-terminal and records every frame it draws. A one-copy process stage takes
 * a second batch while busy (pipelining): the display showed that as `busy 2/1`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { BIN } from '../helpers/cli';
import { fairTimeout } from '../helpers/fair-clock';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-tty-');
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 4000);
});
afterAll(() => ws.cleanup());

const LONG = 'one-process-copy-with-a-name-longer-than-a-column';

/** Runs `sluice <args>` on a pseudo-terminal; returns everything it wrote there. */
function onTerminal(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const command = [BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ws.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '160' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // On the fair-share clock (test/helpers/fair-clock.cjs), not the wall's: load is not a hang.
    const cancel = fairTimeout(120_000, () => {
      child.kill('SIGKILL');
      reject(new Error(`no end within 120 s of a fair share of the CPU:\n${out}`));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      cancel();
      resolve({ code, out });
    });
  });
}

it('shows percent read, aligned columns, busy never above the copies, and why a stage waits', async () => {
  const slow = path.join(FIXTURE_STAGES, 'e2e-slow.ts');
  const cfg = ws.config(
    {
      name: 'tty',
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [
        { name: LONG, module: slow, mode: 'process', concurrency: 1, options: { ms: 25 } },
        { name: 'fast', module: slow, mode: 'thread', concurrency: 2, options: { ms: 1 } },
      ],
      sink: { format: 'csv', path: 'out/o.csv' },
    },
    'tty.config.ts',
  );
  const { code, out } = await onTerminal(['run', cfg, '--log-level', 'error']);
  expect(code).toBe(0);
  // Frames are separated by the cursor-up-and-erase the display writes before redrawing.
  const frames = out
    .split(/\x1b\[\d+A\x1b\[0J/)
    .map((f) => f.replace(/\r/g, '').split('\n'))
    // (the last part is the summary printed after the display is erased)
    .filter((lines) => / elapsed$/.test(lines[0]));
  expect(frames.length).toBeGreaterThanOrEqual(2);
  let queued = 0;
  for (const lines of frames) {
    expect(lines[0]).toMatch(/^\d+\.\d% of [\d.]+ \S+ read {2}· {2}(ETA \S+ \S+ {2}· {2})?[\d.]+ \S+ elapsed$/);
    const stageLines = lines.filter((l) => / busy \d+\/\d+/.test(l));
    expect(stageLines).toHaveLength(2);
    for (const l of stageLines) {
      const [, busy, copies] = / busy (\d+)\/(\d+)/.exec(l)!.map(Number);
      expect(busy).toBeLessThanOrEqual(copies);
    }
    const long = stageLines.find((l) => l.startsWith(LONG.slice(0, 31) + '…'));
    expect(long).toBeDefined(); // cut to fit, not pushing the columns away
    if (/busy 1\/1 \+1 queued/.test(long!)) queued++;
    // one column for every line: "rows", "queue" and "busy" start at the same place
    const at = (needle: RegExp) => new Set(stageLines.map((l) => l.search(needle)));
    expect(at(/ rows /).size).toBe(1);
    expect(at(/queue /).size).toBe(1);
    expect(at(/busy /).size).toBe(1);
    // The reason, when one is shown, is one the scheduler gives (runtime/decide.ts, policies.ts):
    // CI once caught a frame while the stage flushed ("busy 1/2  busy: flush").
    for (const l of stageLines) expect(l).toMatch(/busy \d+\/\d+( \+\d+ queued)?(\s+(idle: no input|idle: input finished|held: output full|busy: flush|busy: every copy working|done))?$/);
  }
  // the case that showed busy 2/1: the second batch is shown as queued behind the one copy
  expect(queued).toBeGreaterThan(0);
}, 180_000);
