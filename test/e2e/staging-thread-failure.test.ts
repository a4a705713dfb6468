/**
 * The staging thread's own writes failing for real (io/units/staging-thread.ts): a resumable run
 * under a file-size limit (prlimit --fsize: the kernel refuses the write that would grow a file
 * past it with EFBIG) whose third unit stages more than the limit. The OS error crosses from
 * the staging thread to the run as it is, so the run fails with a SinkError naming the sink, the
 * unit, its input file and EFBIG, publishes nothing, and `--resume` without the limit gives the
 * uninterrupted run's output byte for byte. The stage runs in threads, so the staged batches are
 * shared memory (posted to the staging thread, not copied). The fault cases of staging-failure.test.ts
 * inject errors into their own process's node:fs, which the staging thread does not use.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

const ws = workspace('sluice-staging-thread-failure-');
afterAll(() => ws.cleanup());

const LIMIT = 1 << 20;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
// Units 1, 2 and 4 stage a few KiB; unit 3 about 2 MiB, past the limit.
const ROWS = [200, 200, 100_000, 200];
ROWS.forEach((rows, i) => writeFileSync(path.join(inputs, `f${i + 1}.csv`), ['id,name,v', ...Array.from({ length: rows }, (_, j) => `${i * 1_000_000 + j},n${j % 97},${j + 0.25}`)].join('\n') + '\n'));

/** A Parquet sink (it stages encoded, compressed parts: small) and a CSV sink (it stages the batches: unit 3's pass the limit). */
function setup(name: string): { config: string; targets: string[] } {
  const targets = ['all.parquet', 'all.csv'].map((f) => path.join(ws.dir, name, 'out', f));
  const config = ws.config(
    {
      name: 'staging-thread-failure',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10_000 },
      stages: [{ name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'thread', concurrency: 2 }],
      sinks: [
        { name: 'pq', format: 'parquet', path: targets[0] },
        { name: 'text', format: 'csv', path: targets[1] },
      ],
      resumable: true,
    },
    `${name}.config.ts`,
  );
  return { config, targets };
}

it('a staged write refused with EFBIG fails the run naming sink, unit and file; --resume without the limit gives the uninterrupted output', async () => {
  const reference = setup('reference');
  const clean = await runCli(['run', reference.config, '--quiet', '--log-level', 'warn']);
  expect(clean.stderr).toBe('');
  expect(clean.code).toBe(0);

  const { config, targets } = setup('limited');
  const failed = await runCli(['run', config, '--quiet', '--log-level', 'warn'], { wrap: ['prlimit', `--fsize=${LIMIT}`] });
  expect(failed.code).not.toBe(0);
  expect(failed.stderr).toMatch(/cannot write the staged batches of unit 3 \(.*f3\.csv\) for sink "text" \(.*all\.csv\): EFBIG \(a file grew past the largest size allowed/);
  expect(failed.stderr).toMatch(/nothing was committed; once the cause is fixed, run again with --resume/);
  expect(targets.filter((t) => existsSync(t))).toEqual([]);

  const resumed = await runCli(['run', config, '--quiet', '--log-level', 'warn', '--resume']);
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
  targets.forEach((t, k) => expect(readFileSync(t).equals(readFileSync(reference.targets[k]))).toBe(true));
});
