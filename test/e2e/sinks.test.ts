/**
 * Sink paths through the CLI with real processes: one writer at a time (the second run is
 * refused naming the first), a killed run's lock and temporaries recovered by the next run,
 * failures that name the sink path with the OS code. Output checked with DuckDB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';
import { waitFor } from '../helpers/fair-clock';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeFileSync(path.join(ws.dir, 'a.csv'), 'id\n' + Array.from({ length: 50 }, (_, i) => i).join('\n') + '\n');
  writeFileSync(path.join(ws.dir, 'b.csv'), 'id\n' + Array.from({ length: 7 }, (_, i) => 1000 + i).join('\n') + '\n');
});
afterAll(() => ws.cleanup());

async function countAndSum(file: string): Promise<[number, number]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const [[count, sum]] = (await c.runAndReadAll(`SELECT count(*), sum(id) FROM read_parquet('${file}')`)).getRows();
    return [Number(count), Number(sum)];
  } finally {
    c.closeSync();
  }
}

/** Resolves once `file` exists (the gate stage's signal); fails the test after 30 s of a fair share of the CPU. */
async function appeared(file: string): Promise<string> {
  await waitFor(() => existsSync(file), `${file} to appear`, 30_000);
  return readFileSync(file, 'utf8');
}

function configs(tag: string) {
  const dir = path.join(ws.dir, tag);
  mkdirSync(dir);
  const gate = { ready: path.join(dir, 'ready'), release: path.join(dir, 'release') };
  const sink = { format: 'parquet', path: path.join(dir, 'out/out.parquet') };
  const first = ws.config(
    { name: 'first', source: { format: 'csv', path: 'a.csv' }, stages: [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'e2e-gate.ts'), mode: 'inline', options: gate }], sink },
    `${tag}-first.config.ts`,
  );
  const second = ws.config({ name: 'second', source: { format: 'csv', path: 'b.csv' }, stages: [], sink }, `${tag}-second.config.ts`);
  return { dir, gate, sink: sink.path, first, second };
}

it('a second run on a sink path being written fails at once naming the first; the output is exactly the first run', async () => {
  const c = configs('busy');
  const first = runCli(['run', c.first, '--quiet']);
  const pid = await appeared(c.gate.ready);
  const second = await runCli(['run', c.second, '--quiet']);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`sluice: ${c.sink} is being written by pid ${pid} (pipeline first, started `);
  expect(second.stderr).toContain(`on host ${os.hostname()}`);
  writeFileSync(c.gate.release, '');
  expect((await first).code).toBe(0);
  expect(await countAndSum(c.sink)).toEqual([50, 1225]);
  expect(readdirSync(path.dirname(c.sink))).toEqual(['out.parquet']);
});

it("a run killed with SIGKILL leaves a lock and a temporary; the next run takes over, removes them and says so", async () => {
  const c = configs('killed');
  const first = runCli(['run', c.first, '--quiet']);
  const pid = Number(await appeared(c.gate.ready));
  process.kill(pid, 'SIGKILL');
  await first;
  const left = readdirSync(path.dirname(c.sink)).sort();
  expect(left).toEqual(expect.arrayContaining(['.out.parquet.sluice-lock', expect.stringMatching(new RegExp(`^\\.out\\.parquet\\.sluice-tmp-${pid}-`))]));

  const second = await runCli(['run', c.second, '--quiet', '--log-level', 'warn']);
  expect(second.code).toBe(0);
  expect(second.stderr).toContain(`took over the lock on ${c.sink}: its holder, pid ${pid} (pipeline first`);
  expect(second.stderr).toMatch(new RegExp(`removed \\S+\\.out\\.parquet\\.sluice-tmp-${pid}-(\\d+-)?[0-9a-f]+, left behind by a run that died \\(pid ${pid}\\)`));
  expect(await countAndSum(c.sink)).toEqual([7, 7021]);
  expect(readdirSync(path.dirname(c.sink))).toEqual(['out.parquet']);
});

it("keeps a temporary whose pid is alive (another run's) and removes a dead one's", async () => {
  const dir = path.join(ws.dir, 'leftovers/out');
  mkdirSync(dir, { recursive: true });
  const live = path.join(dir, `.x.parquet.sluice-tmp-${process.pid}-00c0ffee`);
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!; // just exited
  const dead = path.join(dir, `.x.parquet.sluice-tmp-${deadPid}-00c0ffee`);
  writeFileSync(live, 'live');
  writeFileSync(dead, 'dead');
  const cfg = ws.config({ name: 'left', source: { format: 'csv', path: 'b.csv' }, stages: [], sink: { format: 'parquet', path: path.join(dir, 'x.parquet') } }, 'left.config.ts');
  const r = await runCli(['run', cfg, '--quiet', '--log-level', 'warn']);
  expect(r.code).toBe(0);
  expect(readdirSync(dir).sort()).toEqual([path.basename(live), 'x.parquet']);
  expect(r.stderr).toContain(`removed ${dead}, left behind by a run that died (pid ${deadPid})`);
});

describe('failures name the sink path, the OS code and what to do', () => {
  const long = 'x'.repeat(240);
  it.each([
    ['a parent that is a file', 'afile/out.csv', 'ENOTDIR: ', 'afile is a file, not a directory'],
    ['a name too long for the hidden temporary beside it', `${long}.csv`, 'ENAMETOOLONG: ', 'keep it to 212 bytes'],
  ])('%s: validate and run refuse it as sink.path', async (_what, sinkPath, code, advice) => {
    writeFileSync(path.join(ws.dir, 'afile'), 'not a directory');
    const cfg = ws.config({ name: 'bad', source: { format: 'csv', path: 'b.csv' }, stages: [], sink: { format: 'csv', path: sinkPath } }, 'badsink.config.ts');
    for (const cmd of ['validate', 'run']) {
      const r = await runCli([cmd, cfg]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`sink.path: cannot write ${path.join(ws.dir, sinkPath)}: ${code}`);
      expect(r.stderr).toContain(advice);
    }
  });

  it('a partition value too long for a file name: refused before any write, naming the column and the length', async () => {
    writeFileSync(path.join(ws.dir, 'long.csv'), `k,v
${'y'.repeat(300)},1
`);
    const out = path.join(ws.dir, 'longparts');
    const cfg = ws.config({ name: 'long', source: { format: 'csv', path: 'long.csv' }, stages: [], sink: { format: 'csv', path: out, partitionBy: ['k'] } }, 'long.config.ts');
    const r = await runCli(['run', cfg, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`sluice: partition value of column "k" is too long for a directory name: "${'y'.repeat(40)}"… (300 bytes) makes 302 bytes encoded`);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(ws.dir).filter((n) => n.includes('longparts'))).toEqual([]);
  });

  // A 16 KiB tmpfs fills up for real; where mounting is not allowed, the unit test fakes ENOSPC.
  const full = path.join(os.tmpdir(), `sluice-full-${process.pid}`);
  const mounted = (() => {
    mkdirSync(full, { recursive: true });
    return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', full]).status === 0;
  })();
  afterAll(() => {
    if (mounted) spawnSync('umount', [full]);
    rmSync(full, { recursive: true, force: true });
  });
  (mounted ? it.each(['csv', 'parquet']) : it.skip.each(['csv', 'parquet']))('a full disk (%s): ENOSPC on the sink path, nothing left on the disk', async (format) => {
    writeFileSync(path.join(ws.dir, 'big.csv'), 'id,s\n' + Array.from({ length: 5000 }, (_, i) => `${i},${'z'.repeat(20)}${i}`).join('\n') + '\n');
    const out = path.join(full, `out.${format}`);
    const cfg = ws.config({ name: 'full', source: { format: 'csv', path: 'big.csv' }, stages: [], sink: { format, path: out, ...(format === 'parquet' && { compression: 'uncompressed' }) } }, `full-${format}.config.ts`);
    const r = await runCli(['run', cfg, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`sluice: cannot (write|commit) ${out.replace(/[.]/g, '\\.')}: ENOSPC \\(the disk is full`));
    expect(r.stderr).toContain(`temporary ${full}/.out.${format}.sluice-tmp-`);
    expect(readdirSync(full)).toEqual([]);
  });
});
