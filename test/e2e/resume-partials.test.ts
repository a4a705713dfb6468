/**
 * Resumable runs whose stateful stage has `combine` (runtime/unit-partials.ts): the example
 * nightly job (clean inline → pseudonymise thread × 2 → the example aggregate given a combine,
 * test/fixtures/stages/aggregate-combine.ts, its totals to
 * Parquet, the pseudonymised rows to NDJSON), with the aggregate in each mode. Each input file's
 * rows go through a fresh instance of the aggregate; its flush at the file's end (the file's
 * partial: one row per group, its sums and its distinct customers' hashes) is staged with the unit,
 * not the rows it read; the totals are `combine` over every file's partial. Per mode:
 * - an uninterrupted resumable run stages 8 partials and combines them; its totals equal a
 *   run without units (DuckDB);
 * - the whole process tree SIGKILLed while file 6 is in flight: what is staged for the
 *   aggregate is each committed file's partial, exactly as many rows as its groups (counted by
 *   DuckDB from the input CSV), fewer than the rows it read;
 * - `--resume`: files 1–5 are not read again, their partials are read back, and the outputs
 *   are byte for byte the uninterrupted resumable run's, and its totals a run without units'.
 * The run without units is one for the file, every stage inline: its answer is the same in
 * every mode (modes.test.ts), and the aggregate's mode is what the cases vary, not it. The
 * killed runs are CLI commands (the whole tree dies); the `--resume` after the kill is one too
 * in process mode, and a whole run in the test's process in thread and inline mode
 * (test/helpers/embedded-run.ts, `units: 'resume'`: the same engine and copies without a CLI
 * child's start-up; its report is what `--report` writes).
 */
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, REPO, runCli } from '../helpers/cli';
import { runEmbeddedOk } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { killTreeAt } from '../helpers/processes';
import { workspace } from '../helpers/workspace';
import { outputBytes } from '../helpers/outputs';

jest.setTimeout(300_000);

const ws = workspace('sluice-resume-partials-');
afterAll(() => ws.cleanup());

// 8 files: 5 committed before the kill, 3 read by --resume (each is a unit staged and committed in every run).
const FILES = 8;
/** Units recorded when the killed run stops itself (file KILL_AT + 1 in flight). */
const KILL_AT = 5;
// Two batches of 64 per file; a file's groups (at most 30: 5 days × 3 countries × 2 currencies)
// stay under half the rows the aggregate reads of it (90). More rows cost CPU in every run, batch by batch.
const ROWS = 120;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
const names: string[] = [];
const COUNTRIES = ['SE', ' de', 'FR'];
const STATUS = ['settled', 'settled', 'refunded', 'test'];
for (let i = 1; i <= FILES; i++) {
  const lines = ['txn_id,ts,customer_id,email,merchant,country,amount,currency,status,note'];
  for (let j = 0; j < ROWS; j++) {
    const id = i * 1000 + j;
    // Six customers, seen in every file: a file's distinct pairs are far fewer than its rows, and a customer's count spans files.
    const customer = String(id % 6).padStart(8, '0');
    lines.push(`${id},2026-11-${String(1 + (id % 5)).padStart(2, '0')} 10:${String(j % 60).padStart(2, '0')}:00,${customer},c${customer}@example.com,M${j % 4},${COUNTRIES[id % 3]},${(id % 997) / 4},${id % 2 ? 'EUR' : 'SEK'},${STATUS[id % 4]},n`);
  }
  const file = path.join(inputs, `t${String(i).padStart(2, '0')}.csv`);
  writeFileSync(file, lines.join('\n') + '\n');
  names.push(file);
}
/** Rows the aggregate reads of a file: clean drops status 'test'. */
const READ_PER_FILE = (ROWS * 3) / 4;

type Mode = 'inline' | 'thread' | 'process';

/** `pseudonymise`: its mode (the nightly job's thread × 2 unless said). */
function setup(caseName: string, mode: Mode, resumable = true, pseudonymise: Mode = 'thread'): { dir: string; config: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  const config = ws.config(
    {
      name: 'nightly-partials',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 64, schema: { customer_id: 'utf8' } },
      stages: [
        { name: 'clean', module: path.join(REPO, 'stages/clean.ts'), mode: 'inline' },
        { name: 'pseudonymise', module: path.join(REPO, 'stages/pseudonymise.ts'), mode: pseudonymise, concurrency: 2, options: { salt: 's', columns: ['customer_id'], drop: ['email'] } },
        { name: 'aggregate', module: path.join(REPO, 'test/fixtures/stages/aggregate-combine.ts'), mode, concurrency: 1 },
      ],
      sinks: [
        { name: 'totals', from: 'aggregate', format: 'parquet', path: path.join(dir, 'out/totals.parquet') },
        { name: 'rows', from: 'pseudonymise', format: 'ndjson', path: path.join(dir, 'out/rows.ndjson') },
      ],
      ...(resumable && { resumable: true }),
    },
    `${caseName}.config.ts`,
  );
  return { dir, config };
}

const totals = (dir: string) => duckRows(`select * from read_parquet('${path.join(dir, 'out/totals.parquet')}') order by day, country, currency`);
const rows = (dir: string) => duckRows(`select count(*)::int as n, sum(txn_id)::bigint as ids from read_json_auto('${path.join(dir, 'out/rows.ndjson')}')`);

/** The manifest's unit lines of a killed run (its staging beside the first sink). */
function stagedUnits(dir: string): { unit: number; file: string; sinks: ({ file: string; rows: number } | null)[] }[] {
  const staging = path.join(dir, 'out/.totals.parquet.sluice-staging');
  const [runId] = readdirSync(staging);
  return readFileSync(path.join(staging, runId, 'manifest.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((l) => l.type === 'unit');
}

/** Per input file, by DuckDB from the CSV: the rows of the aggregate's partial (its groups: day, country as clean makes it, currency). */
async function partialRowsPerFile(): Promise<Map<string, number>> {
  const day = `cast(cast(ts as timestamp) as date)`;
  const found = await duckRows(
    `select filename as file, count(distinct (${day}, upper(trim(country)), currency))::int as n from read_csv('${path.join(inputs, '*.csv')}', filename = true, all_varchar = true) where status <> 'test' group by filename`,
  );
  return new Map(found.map((r) => [r.file as string, r.n as number]));
}

/** The run without units, every stage inline (see the header): what each mode's totals and rows must equal. */
let plainDir: string;
beforeAll(async () => {
  const plain = setup('plain', 'inline', false, 'inline');
  await runEmbeddedOk(plain.config);
  plainDir = plain.dir;
});

/** `sluice run --resume --report`: it must exit 0; its report. */
async function resumeByCli(dir: string, config: string) {
  const reportFile = path.join(dir, 'report.json');
  const r = await runCli(['run', config, '--resume', '--quiet', '--report', reportFile]);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  return JSON.parse(readFileSync(reportFile, 'utf8'));
}

describe.each<Mode>(['process', 'thread', 'inline'])('resume with an aggregate that has combine, in %s mode: per-unit partials', (mode) => {
  let referenceDir: string;
  let reference: Map<string, Buffer>;

  beforeAll(async () => {
    const ref = setup(`${mode}-reference`, mode);
    const report = await runEmbeddedOk(ref.config);
    referenceDir = ref.dir;
    reference = outputBytes(ref.dir);
    // Every file's partial staged and combined; a fresh instance for every file after the first.
    expect(report.units).toEqual({
      runId: expect.any(String),
      total: FILES,
      reused: [],
      read: names,
      tail: { ran: 'partials', replayed: 0, partials: { stage: 'aggregate', staged: FILES, stagedRows: expect.any(Number), reused: 0, renews: FILES - 1, flushMs: expect.any(Number), renewMs: expect.any(Number) } },
    });
    expect(report.stages.find((s) => s.name === 'aggregate')?.rowsIn).toBe(FILES * READ_PER_FILE);
  });

  it('an uninterrupted resumable run gives the totals of a run without units', async () => {
    const want = await totals(plainDir);
    expect(want.length).toBeGreaterThan(10);
    expect(await totals(referenceDir)).toEqual(want);
    expect(await rows(referenceDir)).toEqual(await rows(plainDir));
    expect(readdirSync(path.join(referenceDir, 'out')).sort()).toEqual(['rows.ndjson', 'totals.parquet']);
  });

  it('kill -9 with file 6 in flight stages each file\'s partial, not its rows; --resume gives the uninterrupted output, files 1–5 not read again', async () => {
    const { dir, config } = setup(`${mode}-killed`, mode);
    const below = await killTreeAt(BIN, ['run', config, '--resume', '--quiet'], `unit-${KILL_AT}`);
    // The watcher, and the aggregate's child in process mode.
    expect(below).toBeGreaterThanOrEqual(mode === 'process' ? 2 : 1);

    // Staged for the aggregate (the stream after the two sinks): each committed file's partial, a row per group DuckDB counts.
    const units = stagedUnits(dir);
    expect(units.map((u) => u.unit)).toEqual([...Array(KILL_AT).keys()]);
    const want = await partialRowsPerFile();
    for (const u of units) {
      expect(u.sinks[0]).toBeNull(); // the totals are never staged per unit
      expect(u.sinks[2]?.rows).toBe(want.get(u.file));
      expect(u.sinks[2]!.rows).toBeLessThan(READ_PER_FILE / 2);
    }

    const rep = mode === 'process' ? await resumeByCli(dir, config) : JSON.parse(JSON.stringify(await runEmbeddedOk(config, { units: 'resume' })));
    const left = FILES - KILL_AT;
    expect(rep.units).toMatchObject({ total: FILES, reused: names.slice(0, KILL_AT), read: names.slice(KILL_AT), tail: { ran: 'partials', replayed: 0, partials: { staged: left, reused: KILL_AT, renews: left - 1 } } });
    expect(rep.source.rows).toBe(left * ROWS);
    // The aggregate read only the files this run read: the others gave their staged partials.
    expect(rep.stages.find((s: { name: string }) => s.name === 'aggregate').rowsIn).toBe(left * READ_PER_FILE);
    expect(outputBytes(dir)).toEqual(reference);
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['rows.ndjson', 'totals.parquet']);
    expect(await totals(dir)).toEqual(await totals(plainDir));
    expect(await rows(dir)).toEqual(await rows(plainDir));
  });
});

describe('explain says which way a resumable run carries a stateful stage across units', () => {
  it('partials for a stage with combine, the staged cut (and why) for one without', async () => {
    const { config } = setup('explain-partials', 'process');
    const partials = await runCli(['explain', config]);
    expect(partials.code).toBe(0);
    expect(partials.stdout).toContain('units    stage "aggregate" has flush() and combine(): each input file\'s rows go through a fresh instance of it');
    const plain = ws.config(
      {
        name: 'nightly-cut',
        resumable: true,
        source: { format: 'csv', path: path.join(inputs, '*.csv') },
        stages: [
          { name: 'clean', module: path.join(REPO, 'stages/clean.ts'), mode: 'inline' },
          { name: 'aggregate', module: path.join(REPO, 'stages/aggregate.ts'), mode: 'process' },
        ],
        sink: { format: 'parquet', path: path.join(ws.dir, 'explain-cut.parquet') },
      },
      'explain-cut.config.ts',
    );
    const cut = await runCli(['explain', plain]);
    expect({ code: cut.code, stderr: cut.stderr }).toMatchObject({ code: 0 });
    expect(cut.stdout).toContain('units    every row "clean" passes to the stages with flush() is staged with its unit');
    expect(cut.stdout).toContain('stage "aggregate" has flush() but no combine()');
  });
});
