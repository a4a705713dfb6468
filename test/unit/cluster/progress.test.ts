/**
 * The cluster driver's live display (cluster/progress.ts + cli/cluster-progress.ts) on a recorded
 * sequence of polls of 4 units on two workers: what each unit job's state, attempts, result and
 * progress (job.updateProgress from its worker) were at each poll. No Redis, no timing: the
 * elapsed time is part of the recording.
 */
import { clusterProgress, type UnitView } from '../../../src/cluster/progress';
import { renderClusterProgress } from '../../../src/cli/cluster-progress';
import type { UnitResult } from '../../../src/cluster/jobs';

const SIZES = [1024, 1024, 1024, 1024];
const A = 'host:101';
const B = 'host:202';
const result = (unit: number, worker: string, rows: number): UnitResult => ({ unit, file: `/in/f${unit}.csv`, sinks: [], rows, worker, ms: 100 });
const waiting: UnitView = { state: 'waiting', attempts: 0, progress: 0 };
const running = (worker: string, rows: number, bytesRead: number, attempts = 1): UnitView => ({ state: 'active', attempts, progress: { rows, bytesRead, totalBytes: 1024, worker } });
const done = (unit: number, worker: string, rows: number, attempts = 1): UnitView => ({ state: 'completed', attempts, result: result(unit, worker, rows) });

/** [elapsed ms, the 4 units as that poll saw them] */
const RECORDED: [number, UnitView[]][] = [
  [200, [waiting, waiting, waiting, waiting]],
  // Units 0 and 1 taken; unit 0's worker has not reported yet (BullMQ's progress is 0 until then).
  [400, [{ state: 'active', attempts: 1, progress: 0 }, running(B, 50, 256), waiting, waiting]],
  [1400, [running(A, 100, 512), running(B, 100, 512), waiting, waiting]],
  [2400, [done(0, A, 200), running(B, 150, 768), running(A, 0, 0), waiting]],
  // Unit 2's worker died: it runs again (attempt 2) on B; its old progress stays until the new attempt reports.
  [3400, [done(0, A, 200), done(1, B, 200), running(B, 20, 128, 2), running(A, 100, 512)]],
  [4400, [done(0, A, 200), done(1, B, 200), done(2, B, 200, 2), done(3, A, 200)]],
];

const polls = RECORDED.map(([elapsed, views]) => clusterProgress(views, SIZES, elapsed));

it('counts units, rows and input read across workers at each poll', () => {
  expect(polls.map((p) => p.units)).toEqual([
    { total: 4, done: 0, running: 0, waiting: 4, failed: 0, retried: 0 },
    { total: 4, done: 0, running: 2, waiting: 2, failed: 0, retried: 0 },
    { total: 4, done: 0, running: 2, waiting: 2, failed: 0, retried: 0 },
    { total: 4, done: 1, running: 2, waiting: 1, failed: 0, retried: 0 },
    { total: 4, done: 2, running: 2, waiting: 0, failed: 0, retried: 1 },
    { total: 4, done: 4, running: 0, waiting: 0, failed: 0, retried: 1 },
  ]);
  expect(polls.map((p) => p.rows)).toEqual([0, 50, 200, 350, 520, 800]);
  expect(polls.map((p) => p.input)).toEqual([0, 256, 1024, 1792, 2688, 4096].map((bytesRead) => ({ bytesRead, totalBytes: 4096 })));
  expect(polls[4].workers).toEqual([
    { name: A, done: 1, running: 1, rows: 300 },
    { name: B, done: 1, running: 1, rows: 220 },
  ]);
});

it('renders units, share read, ETA by bytes, rows with their rate, and a line per worker', () => {
  const lines = polls.map(renderClusterProgress);
  expect(lines[0]).toEqual(['units 0/4 done, 0 running, 4 waiting  ·  0.0% of 4.0 KiB read  ·  200 ms elapsed', 'rows 0 read (0 rows/s) by 0 worker(s)']);
  // 1 of 4 KiB in 1.4 s: 3 more at that rate is 4.2 s.
  expect(lines[2][0]).toBe('units 0/4 done, 2 running, 2 waiting  ·  25.0% of 4.0 KiB read  ·  ETA 4.20 s  ·  1.40 s elapsed');
  expect(lines[2][1]).toBe('rows 200 read (143 rows/s) by 2 worker(s)');
  expect(lines[4][0]).toBe('units 2/4 done, 2 running, 0 waiting, 1 retried  ·  65.6% of 4.0 KiB read  ·  ETA 1.78 s  ·  3.40 s elapsed');
  expect(lines[4].slice(2)).toEqual([`  ${A}     1 done  1 running           300 rows`, `  ${B}     1 done  1 running           220 rows`]);
  // All read: no ETA any more.
  expect(lines[5][0]).toBe('units 4/4 done, 0 running, 0 waiting, 1 retried  ·  100.0% of 4.0 KiB read  ·  4.40 s elapsed');
  expect(lines[5].slice(2)).toEqual([`  ${A}     2 done                      400 rows`, `  ${B}     2 done                      400 rows`]);
});

it('without input sizes, the ETA goes by units done', () => {
  const p = clusterProgress([done(0, A, 10), waiting, waiting, waiting], [], 1000);
  expect(renderClusterProgress(p)[0]).toBe('units 1/4 done, 0 running, 3 waiting  ·  ETA 3.00 s  ·  1.00 s elapsed');
});
