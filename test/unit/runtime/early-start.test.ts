/**
 * Stage copies started while the checks run (runtime/early-start.ts): the run adopts them
 * (each copy set up once, not started twice), and every way the run does not happen or
 * fails stops them (no child process left). Inline stages never start early.
 *
 * Two copies a stage where "every copy" is the subject (adopting them, stopping them), one
 * where a copy's start is (booting beside a busy main thread, inline never early, another
 * plan's run): each copy is a thread or child that starts, ~0.25 and ~0.6 CPU-s.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { checkConfig } from '../../../src/config';
import type { PipelineConfig } from '../../../src/config/types';
import { buildPlan } from '../../../src/plan/build';
import { EarlyStart } from '../../../src/runtime/early-start';
import { runPlan } from '../../../src/runtime/run';
import { cpuShare } from '../../helpers/fair-clock';

const MARKER = path.resolve(__dirname, '../../fixtures/stages/setup-marker.ts');
const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-early-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
writeFileSync(path.join(root, 'in.csv'), 'id,name\n' + Array.from({ length: 50 }, (_, i) => `${i},n${i}`).join('\n') + '\n');

let n = 0;
function setUp(modes: Array<'inline' | 'thread' | 'process'>, { sourcePath = path.join(root, 'in.csv'), copies = 2 } = {}) {
  const dir = path.join(root, `case-${n++}`);
  const marks = path.join(dir, 'marks');
  mkdirSync(marks, { recursive: true });
  const config: PipelineConfig = {
    name: 'early',
    source: { format: 'csv', path: sourcePath, batchRows: 10 },
    stages: modes.map((mode, i) => ({ name: `s${i}`, module: MARKER, mode, concurrency: mode === 'inline' ? 1 : copies, options: { dir: marks } })),
    sink: { format: 'csv', path: path.join(dir, 'out.csv') },
  };
  const resolved = checkConfig(config, '', dir);
  const plan = buildPlan(resolved.config, resolved);
  return { plan, marks: () => readdirSync(marks), out: path.join(dir, 'out.csv') };
}

/** pid of every copy set up in a child process (not this one). */
const childPids = (marks: string[]) => [...new Set(marks.map((m) => Number(m.split('-')[0])).filter((pid) => pid !== process.pid))];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('early start', () => {
  it('the run adopts the copies started early: each copy is set up once, none started again', async () => {
    const { plan, marks, out } = setUp(['thread', 'process']);
    const early = EarlyStart.begin(plan, { log });
    expect(early.stages).toBe(2);
    await early.settled();
    const before = marks().sort();
    expect(before).toHaveLength(4); // 2 thread copies + 2 children, set up before the run
    const report = await runPlan(plan, { log }, early);
    expect(report.sink.rows).toBe(50);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(51);
    expect(marks().sort()).toEqual(before); // a run that started its own copies would add 4 more
    expect(early.stages).toBe(0);
    for (const pid of childPids(before)) expect(alive(pid)).toBe(false);
  });

  it('once launched() resolves, the children boot and set up while the main thread is busy (as with the checks)', async () => {
    const { plan, marks } = setUp(['process'], { copies: 1 });
    const early = EarlyStart.begin(plan, { log });
    await early.launched();
    // Hold the main thread, as the synchronous checks do: the children must come up without
    // its event loop. Before launched() existed they were spawned only after the checks.
    // The limit is 30 s of a fair share of the CPU (test/helpers/fair-clock.cjs), counted here
    // as the loop blocks the timers fairTimeout uses: a busy machine stretches it, a hang does
    // not (a wall-clock limit scaled by the 1-minute load average lags a sudden load).
    const wait = new Int32Array(new SharedArrayBuffer(4));
    let fair = 0;
    for (let last = Date.now(), now; childPids(marks()).length < 1 && fair < 30_000; last = now) {
      Atomics.wait(wait, 0, 0, 10);
      now = Date.now();
      fair += (now - last) * cpuShare();
    }
    expect(childPids(marks())).toHaveLength(1);
    await early.discard();
  });

  it('never starts an inline stage early (it would run on the main thread, in the checks\' way)', async () => {
    const { plan, marks } = setUp(['inline', 'thread'], { copies: 1 });
    const early = EarlyStart.begin(plan, { log });
    expect(early.stages).toBe(1);
    await early.settled();
    expect(marks().filter((m) => Number(m.split('-')[0]) === process.pid && m.split('-')[1] === '0')).toEqual([]);
    await early.discard();
  });

  it('discard stops every copy started early: no child process is left', async () => {
    const { plan, marks } = setUp(['process', 'thread']);
    const early = EarlyStart.begin(plan, { log });
    await early.settled();
    const pids = childPids(marks());
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    await early.discard();
    expect(early.stages).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('a run that fails before its stages start (the source is gone) stops the copies it adopted', async () => {
    const gone = path.join(root, 'gone.csv');
    writeFileSync(gone, 'id\n1\n');
    const { plan, marks } = setUp(['process'], { sourcePath: gone });
    const early = EarlyStart.begin(plan, { log });
    await early.settled();
    const pids = childPids(marks());
    expect(pids).toHaveLength(2);
    rmSync(gone); // after the checks, before the run opens it
    await expect(runPlan(plan, { log }, early)).rejects.toThrow(/gone\.csv/);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('is refused by the run of another plan', async () => {
    const a = setUp(['thread'], { copies: 1 });
    const b = setUp(['thread'], { copies: 1 });
    const early = EarlyStart.begin(a.plan, { log });
    await expect(runPlan(b.plan, { log }, early)).rejects.toThrow(/another plan/);
    expect(early.stages).toBe(0); // discarded by the run that refused it
  });
});
