/**
 * A resumable run with a dead-letter output (io/units: its rows are staged per unit, as one more
 * sink's, so a resumed run keeps the rejects of the units before it). 20 CSV files; bad values
 * the source dead-letters in files 3, 8 and 15, and rows a thread stage throws on (bisected
 * down to them) in files 4, 12 and 17. Killed -9 (the whole tree) with file 12 in flight, then
 * `--resume`: the output and the rejects are byte for byte an uninterrupted run's, and DuckDB
 * reads the six rejects with their file, line and reason, the same as a run without units.
 * The report's rejects per place and reason are the uninterrupted run's (the earlier units' counts
 * are kept in the manifest). `maxErrors` counts the rejects of the units staged before: over budget across the two
 * attempts fails the resumed run, with nothing committed.
 * The killed runs are CLI commands (test/helpers/cli.ts), and so is the first `--resume` after
 * one; the reference runs (with and without units) and the resumes of the maxErrors cases are
 * whole runs in the test's process (test/helpers/embedded-run.ts, `units: 'resume'`: the same
 * engine and copies without a CLI child's start-up; the error is what `sluice run` prints
 * after "sluice: ").
 * The run without units runs its stage inline: its answer is the same in every mode
 * (modes.test.ts), and no thread copies start for it.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli } from '../helpers/cli';
import { runEmbedded, runEmbeddedOk } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { killTreeAt } from '../helpers/processes';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';
import { outputBytes } from '../helpers/outputs';

jest.setTimeout(240_000);

const ws = workspace('sluice-resume-dl-');
afterAll(() => ws.cleanup());

const FILES = 20;
const ROWS = 30;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
const names: string[] = [];
/** File number → (row index → the bad text for `x`). */
const BAD: Record<number, [number, string]> = { 3: [5, 'oops'], 8: [7, 'bad'], 15: [2, 'nope'] };
const THROWS = [405, 1210, 1706];
for (let i = 1; i <= FILES; i++) {
  const lines = ['id,name,x'];
  for (let j = 0; j < ROWS; j++) lines.push(`${i * 100 + j},n${i},${BAD[i]?.[0] === j ? BAD[i][1] : j * 0.5}`);
  const file = path.join(inputs, `f${String(i).padStart(2, '0')}.csv`);
  writeFileSync(file, lines.join('\n') + '\n');
  names.push(file);
}

/** `inline`: the stage inline (the run without units: its answer is the same in every mode, modes.test.ts; no thread copies to start). */
function setup(caseName: string, extra: { resumable?: boolean; maxErrors?: number | string; inline?: boolean } = {}): { dir: string; config: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  const config = ws.config(
    {
      name: 'resume-dl',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 10, schema: { x: 'float64' }, onError: 'dead-letter' },
      stages: [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'throws-on-ids.ts'), ...(extra.inline ? { mode: 'inline' } : { mode: 'thread', concurrency: 2 }), onError: 'dead-letter', options: { ids: THROWS } }],
      sink: { format: 'parquet', path: path.join(dir, 'out/clean.parquet') },
      deadLetter: { format: 'ndjson', path: path.join(dir, 'out/rejects.ndjson') },
      ...((extra.resumable ?? true) && { resumable: true }),
      ...(extra.maxErrors !== undefined && { maxErrors: extra.maxErrors }),
    },
    `${caseName}.config.ts`,
  );
  return { dir, config };
}

const rejects = (dir: string) =>
  duckRows(`select origin, stage, regexp_extract(file, '[^/]+$') as file, line::int as line, reason from read_json_auto('${path.join(dir, 'out/rejects.ndjson')}') order by file, line nulls last, reason`);
const clean = (dir: string) => duckRows(`select count(*)::int as n, sum(id)::bigint as ids from read_parquet('${path.join(dir, 'out/clean.parquet')}')`);

let reference: Map<string, Buffer>;
let referenceDir: string;
let plainDir: string;
/** The uninterrupted run's rejects per place, action and reason (its report). */
let referenceCounts: unknown;

beforeAll(async () => {
  const ref = setup('reference');
  const plain = setup('plain', { resumable: false, inline: true });
  // Both at once, as before through two CLI children: their copies run while the other waits.
  const [refReport] = await Promise.all([runEmbeddedOk(ref.config), runEmbeddedOk(plain.config)]);
  reference = outputBytes(ref.dir);
  // As the CLI's --report file has them (JSON).
  referenceCounts = JSON.parse(JSON.stringify(refReport.rejected!.counts));
  referenceDir = ref.dir;
  plainDir = plain.dir;
});

describe('resumable runs with a dead-letter output', () => {
  it('an uninterrupted run: the six rejects, as a run without units has them', async () => {
    const got = await rejects(referenceDir);
    expect(got.map((r) => [r.origin, r.file])).toEqual([
      ['source', 'f03.csv'],
      ['stage', 'f04.csv'],
      ['source', 'f08.csv'],
      ['stage', 'f12.csv'],
      ['source', 'f15.csv'],
      ['stage', 'f17.csv'],
    ]);
    expect(got).toEqual(await rejects(plainDir));
    // One reason per row here (each names its value or id): the stage's by their batch, then the source's (which carry no batch number).
    expect((referenceCounts as { place: string; rows: number }[]).map((c) => [c.place, c.rows])).toEqual(['gate', 'gate', 'gate', 'source', 'source', 'source'].map((p) => [p, 1]));
    expect(await clean(referenceDir)).toEqual([{ n: FILES * ROWS - 6, ids: expect.anything() }]);
    expect(await clean(referenceDir)).toEqual(await clean(plainDir));
  });

  it('kill -9 with file 12 in flight, then --resume: the rejects of files 3, 4 and 8 are kept; output and rejects are the uninterrupted run\'s', async () => {
    const { dir, config } = setup('killed');
    await killTreeAt(BIN, ['run', config, '--resume', '--quiet'], 'unit-11');
    const report = path.join(dir, 'report.json');
    const r = await runCli(['run', config, '--resume', '--quiet', '--report', report]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.units).toMatchObject({ reused: names.slice(0, 11), read: names.slice(11) });
    expect(rep.source.rows).toBe(9 * ROWS - 1); // file 15's bad row is not among the rows the source passed on
    // Per place and reason, the units before the kill included (their counts are kept in the manifest), in the same order.
    expect(rep.rejected.counts).toEqual(referenceCounts);
    expect(rep.rejected.counts.reduce((n: number, c: { rows: number }) => n + c.rows, 0)).toBe(6);
    expect(rep.rejected.rows).toBe(6);
    expect(outputBytes(dir)).toEqual(reference);
    expect(await rejects(dir)).toEqual(await rejects(plainDir));
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['clean.parquet', 'rejects.ndjson']);
  });

  it('maxErrors counts the rejects of the units staged before the kill: 3 then 3 more is over a budget of 5', async () => {
    const { dir, config } = setup('budget', { maxErrors: 5 });
    await killTreeAt(BIN, ['run', config, '--resume', '--quiet'], 'unit-11');
    const { error } = await runEmbedded(config, { units: 'resume' });
    expect(error?.message).toContain('6 rows rejected (skipped or dead-lettered), more than maxErrors: 5; nothing was committed');
    // Named as an uninterrupted run names them: the first rejects are those of files 3, 4 and 8, staged before the kill.
    expect(error?.message).toMatch(/The first: source, \S*f03\.csv, line 7, [^;]*; stage "gate", \S*f04\.csv[^;]*; source, \S*f08\.csv, line 9,/);
    expect(existsSync(path.join(dir, 'out/clean.parquet'))).toBe(false);
    expect(existsSync(path.join(dir, 'out/rejects.ndjson'))).toBe(false);
  });

  it('a maxErrors share counts the rows the units before the kill read: 6 rejects of 600 rows are within 1.5 %', async () => {
    // Measured against this run's rows alone (9 files), the same 6 rejects would be over 2 %.
    const { dir, config } = setup('share', { maxErrors: '1.5%' });
    await killTreeAt(BIN, ['run', config, '--resume', '--quiet'], 'unit-11');
    await runEmbeddedOk(config, { units: 'resume' });
    expect(await rejects(dir)).toEqual(await rejects(plainDir));
  });
});
