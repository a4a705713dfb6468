/**
 * Resumable runs (io/units): 10 CSV files into five sinks at once (one Parquet file, a CSV,
 * an NDJSON and an Arrow file, a partitioned Parquet directory: every sink kind, in one run,
 * committed together). A run whose whole process tree is SIGKILLed once 5 units are recorded
 * (SLUICE_TEST_STOP_AT=unit-5: file 6 is in flight), or that fails on file 8 for a cause
 * that is then removed, is finished by `sluice run --resume`: the outputs are byte for byte
 * those of an uninterrupted run, DuckDB reads the same rows, and the report says which files
 * were not read again. A changed stage module, a changed input, a run without --resume and
 * stages with flush() that read two places are refused, naming what (one place:
 * resume-stateful.test.ts). The column types are fixed once, by the first
 * file, and kept in the manifest: a resumed run does not infer them again from file 6.
 * (It was 20 files, killed at unit 11, failing on file 15: each unit is staged, fsynced and
 * committed in every sink, so the files cost CPU in every run, and 10 hold every case.)
 *
 * Through the CLI where the command is the point: the run killed -9 with its tree, the refusal
 * to start over staged units without --resume, --resume (without `resumable` in the config)
 * after the kill, and the refusal of the CLI's pre-check. The other runs (the reference, the
 * failure and its resume, the refusals of a changed module or input, --restart) are whole runs
 * in the test's process (test/helpers/embedded-run.ts, `units` as --resume/--restart set it):
 * the same engine and copies without a CLI child's start-up; their errors are what `sluice
 * run` prints after "sluice: ".
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli } from '../helpers/cli';
import { runEmbedded, runEmbeddedOk } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { killTreeAt } from '../helpers/processes';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(240_000);

const ws = workspace('sluice-resume-');
afterAll(() => ws.cleanup());

const FILES = 10;
/** Units recorded when the killed run stops itself (file KILL_AT + 1 in flight). */
const KILL_AT = 5;
/** The file the failing run fails on (`n08`). */
const FAIL_FILE = 8;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
const names: string[] = [];
for (let i = 1; i <= FILES; i++) {
  const n = String(i).padStart(2, '0');
  // `v` is fractional in the first file only: its types are the run's (float64), also for a resumed run that starts at file 6 (whose own rows would say int64).
  const rows = ['x,name,v', ...Array.from({ length: 30 }, (_, j) => `${i * 100 + j},n${n},${i === 1 ? j + 0.5 : j}`)];
  const file = path.join(inputs, `f${n}.csv`);
  writeFileSync(file, rows.join('\n') + '\n');
  names.push(file);
}

const SINKS = [
  { name: 'pq', format: 'parquet', path: 'all.parquet', rowGroupSize: 1000 },
  { name: 'csv', format: 'csv', path: 'all.csv' },
  { name: 'nd', format: 'ndjson', path: 'all.ndjson' },
  { name: 'ar', format: 'arrow', path: 'all.arrow' },
  { name: 'dir', format: 'parquet', path: 'parts', partitionBy: ['name'] },
] as const;

/**
 * A config writing into `out`, its stage module `module` (copied into the case's folder, so a
 * case can change it). `resumable`: said in the config (an embedded run has no --resume to say it).
 */
function setup(caseName: string, extra: { stages?: unknown[]; mode?: string; resumable?: boolean } = {}): { dir: string; config: string; module: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  const module = path.join(dir, 'fail-on-name.ts');
  copyFileSync(path.join(FIXTURE_STAGES, 'fail-on-name.ts'), module);
  const config = ws.config(
    {
      name: 'resume',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10 },
      stages: extra.stages ?? [{ name: 'gate', module, mode: extra.mode ?? 'inline' }],
      sinks: SINKS.map((s) => ({ ...s, path: path.join(dir, 'out', s.path) })),
      ...(extra.resumable && { resumable: true }),
    },
    `${caseName}.config.ts`,
  );
  return { dir, config, module };
}

/** Every output file under `dir/out` (hidden ones too) → its bytes; partition files named without the run id. */
function outputs(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, path.join(rel, e.name));
      else out.set(path.join(rel, e.name.replace(/-[0-9a-f]{16}\./, '-ID.')), readFileSync(p));
    }
  };
  walk(path.join(dir, 'out'), '');
  return out;
}

type Report = { units?: { runId: string; total: number; reused: string[]; read: string[] }; source: { files: number; rows: number } };

async function report(file: string): Promise<Report> {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** An embedded run that must succeed, its report as the CLI's --report file holds it (JSON). */
const reportOfRun = async (config: string, units: 'resume' | 'restart'): Promise<Report> => JSON.parse(JSON.stringify(await runEmbeddedOk(config, { units })));

/** An embedded run with SLUICE_TEST_FAIL_NAME=`name` (read by the inline stage, in this process) that must fail; its error. */
async function failingOn(name: string, config: string): Promise<Error> {
  process.env.SLUICE_TEST_FAIL_NAME = name;
  try {
    const r = await runEmbedded(config, { units: 'resume' });
    expect(r.error).toBeDefined();
    return r.error!;
  } finally {
    delete process.env.SLUICE_TEST_FAIL_NAME;
  }
}

/** Start `sluice run` with SLUICE_TEST_STOP_AT=unit-<n>; once it has stopped itself, SIGKILL it and every process below it. */
async function killTreeAtUnit(config: string, n: number): Promise<void> {
  const below = await killTreeAt(BIN, ['run', config, '--resume', '--quiet'], `unit-${n}`);
  expect(below).toBeGreaterThan(0); // stage threads live in the process; the watcher is a child
}

let reference: Map<string, Buffer>;
let referenceDir: string;

beforeAll(async () => {
  const { dir, config } = setup('reference', { resumable: true });
  const rep = await reportOfRun(config, 'resume');
  reference = outputs(dir);
  referenceDir = dir;
  expect(rep.units).toMatchObject({ total: FILES, reused: [], read: names });
});

describe('resumable runs', () => {
  it('an uninterrupted run: each input file is its own row group, the staging is gone, every sink has all rows', async () => {
    const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(path.join(referenceDir, 'out/all.parquet')));
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual(Array(FILES).fill(30));
    expect(readdirSync(path.join(referenceDir, 'out')).sort()).toEqual(['all.arrow', 'all.csv', 'all.ndjson', 'all.parquet', 'parts']);
    const [{ n }] = await duckRows(`select count(*)::int as n from read_parquet('${path.join(referenceDir, 'out/parts/**/*.parquet')}')`);
    expect(n).toBe(FILES * 30);
  });

  it(`kill -9 of the whole process tree with file ${KILL_AT + 1} in flight, then --resume: the uninterrupted output, files 1–${KILL_AT} not read again`, async () => {
    // Its stage runs in child processes: the tree killed is the run, its stage's children and its watcher.
    const { dir, config } = setup('killed', { mode: 'process' });
    await killTreeAtUnit(config, KILL_AT);
    expect(existsSync(path.join(dir, 'out', 'all.parquet'))).toBe(false);
    // Without --resume the run refuses to start over what was staged.
    const plain = await runCli(['run', config, '--quiet']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(`stopped with ${KILL_AT} of ${FILES} units committed`);
    expect(plain.stderr).toContain('--resume');
    const r = await runCli(['run', config, '--resume', '--quiet', '--report', path.join(dir, 'report.json')]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const rep = await report(path.join(dir, 'report.json'));
    expect(rep.units).toEqual({ runId: expect.any(String), total: FILES, reused: names.slice(0, KILL_AT), read: names.slice(KILL_AT) });
    expect(rep.source.files).toBe(FILES - KILL_AT);
    expect(rep.source.rows).toBe((FILES - KILL_AT) * 30);
    expect(outputs(dir)).toEqual(reference);
    const duck = async (d: string) => duckRows(`select x, name, v from read_parquet('${path.join(d, 'out/all.parquet')}') order by x`);
    expect(await duck(dir)).toEqual(await duck(referenceDir));
    expect(await duckRows(`select distinct typeof(v) as t from read_parquet('${path.join(dir, 'out/parts/**/*.parquet')}')`)).toEqual([{ t: 'DOUBLE' }]);
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['all.arrow', 'all.csv', 'all.ndjson', 'all.parquet', 'parts']);
  });

  it('kill -9 once every unit is committed (the final commit under way), then --resume: no file read again, the uninterrupted output in every format', async () => {
    // Once failed every time with a Parquet sink: the encoder's flush passed on an empty part that belonged to no unit.
    const { dir, config } = setup('killed-at-commit');
    await killTreeAtUnit(config, FILES);
    expect(readdirSync(path.join(dir, 'out')).filter((f) => !f.startsWith('.'))).toEqual([]);
    const r = await runCli(['run', config, '--resume', '--quiet', '--report', path.join(dir, 'report.json')]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const rep = await report(path.join(dir, 'report.json'));
    expect(rep.units).toEqual({ runId: expect.any(String), total: FILES, reused: names, read: [] });
    expect(rep.source.rows).toBe(0);
    expect(outputs(dir)).toEqual(reference);
  });

  it(`a stage failure on file ${FAIL_FILE}, its cause removed, then --resume: the uninterrupted output`, async () => {
    const { dir, config } = setup('failed', { resumable: true });
    const failing = `n${String(FAIL_FILE).padStart(2, '0')}`;
    expect((await failingOn(failing, config)).message).toContain(`deliberate failure on a row of ${failing}`);
    const rep = await reportOfRun(config, 'resume');
    // The units whose every batch had reached every sink before the failure are kept (the
    // channels' capacities bound how many were still on their way); the rest are read again.
    const kept = rep.units!.reused.length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(FAIL_FILE - 1);
    expect(rep.units).toMatchObject({ reused: names.slice(0, kept), read: names.slice(kept) });
    expect(outputs(dir)).toEqual(reference);
  });

  it('a changed stage module or input makes --resume refuse, naming it; --restart discards the staged units', async () => {
    const { dir, config, module } = setup('changed', { resumable: true });
    await failingOn('n05', config);
    appendFileSync(module, '\n// changed\n');
    const refused = (await runEmbedded(config, { units: 'resume' })).error?.message;
    expect(refused).toContain('cannot resume');
    expect(refused).toContain('the module of stage "gate" changed');
    expect(refused).toContain('--restart');
    const t = new Date('2026-01-01T00:00:00Z');
    utimesSync(names[2], t, t);
    const again = (await runEmbedded(config, { units: 'resume' })).error?.message;
    expect(again).toContain(`input ${names[2]} changed`);
    expect((await reportOfRun(config, 'restart')).units!.reused).toEqual([]);
    expect(outputs(dir)).toEqual(reference);
  });

  it('stages with flush() reading two different places are refused in a resumable run, before anything runs (one place is staged for them: resume-stateful.test.ts)', async () => {
    const dir = path.join(ws.dir, 'two-cuts');
    mkdirSync(dir);
    const count = path.join(FIXTURE_STAGES, 'e2e-count.ts');
    const config = ws.config(
      {
        name: 'resume',
        resumable: true,
        source: { format: 'csv', path: path.join(inputs, '*.csv') },
        stages: [
          // A thread stage: adjacent inline stages would fuse, and the fused gate+countGated reads the source too.
          { name: 'gate', module: path.join(FIXTURE_STAGES, 'fail-on-name.ts'), mode: 'thread' },
          { name: 'countGated', module: count, mode: 'inline', input: 'gate' },
          { name: 'countAll', module: count, mode: 'inline', input: 'source' },
        ],
        sinks: [
          { name: 'a', from: 'countGated', format: 'csv', path: path.join(dir, 'out', 'a.csv') },
          { name: 'b', from: 'countAll', format: 'csv', path: path.join(dir, 'out', 'b.csv') },
        ],
      },
      'two-cuts.config.ts',
    );
    const r = await runCli(['run', config, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the stages with flush() (or after one) read from 2 different places ("countGated", "countAll")');
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });
});
