/**
 * Resumable runs with a stateful stage downstream that has no `combine` (runtime/unit-cut.ts;
 * one with `combine` stages per-unit partials instead: resume-partials.test.ts): the example
 * nightly job (clean inline → pseudonymise thread × 2 → the example aggregate, which has no
 * combine, in a child process, its totals to
 * Parquet), plus the pseudonymised rows to NDJSON straight from the stage before the
 * aggregate. The rows before the aggregate are staged per unit; the aggregate runs again over
 * every staged unit at the commit. A fresh run (no unit carried from an earlier attempt) runs the
 * aggregate live instead, fed as a run without units feeds it, while it stages the rows before
 * it per unit all the same; only a resumed run replays them through it at the commit (the
 * report's `units.tail` says which, and how many batches were replayed). Over 10 input files
 * (each staged, fsynced and committed per unit in every run: more files cost CPU and prove no more):
 * - an uninterrupted resumable run: its aggregate ran live, nothing replayed; the totals and
 *   rows of a run without units;
 * - the whole process tree SIGKILLed while file 6 is in flight, then `--resume`: the totals
 *   and the rows are those of an uninterrupted run (byte for byte, and as DuckDB reads them,
 *   and the totals equal a run without units), and files 1–5 are not read again;
 * - SIGKILLed half-way through the job commit's replay (SLUICE_TEST_STOP_AT=replay): the old
 *   outputs are still in place, untouched, and `--resume` finishes the commit.
 * The killed runs are CLI commands (test/helpers/cli.ts), and so is the `--resume` after the
 * first; the reference runs (with and without units) and the resume that finishes the killed
 * commit are whole runs in the test's process (test/helpers/embedded-run.ts, `units:
 * 'resume'`: the same engine and copies, without a CLI child's start-up). The run without
 * units runs every stage inline: its answer is the same in every mode (modes.test.ts).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, REPO, runCli } from '../helpers/cli';
import { runEmbeddedOk } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { killTreeAt as killTree } from '../helpers/processes';
import { workspace } from '../helpers/workspace';
import { outputBytes } from '../helpers/outputs';
import type { RunReport } from '../../src/runtime/types';

jest.setTimeout(240_000);

const ws = workspace('sluice-resume-stateful-');
afterAll(() => ws.cleanup());

const FILES = 10;
/** Units recorded when the killed run stops itself (file KILL_AT + 1 in flight). */
const KILL_AT = 5;
const ROWS = 80;
/** Source batches per file (batchRows 40): the replay at the commit sends the aggregate one per staged batch. */
const BATCHES_PER_FILE = ROWS / 40;
const inputs = path.join(ws.dir, 'in');
mkdirSync(inputs);
const names: string[] = [];
const COUNTRIES = ['SE', ' de', 'FR'];
const STATUS = ['settled', 'settled', 'refunded', 'test'];
for (let i = 1; i <= FILES; i++) {
  const lines = ['txn_id,ts,customer_id,email,merchant,country,amount,currency,status,note'];
  for (let j = 0; j < ROWS; j++) {
    const id = i * 1000 + j;
    // Customers recur across files: the distinct count per group spans units.
    const customer = String((id * 7) % 53).padStart(8, '0');
    lines.push(`${id},2026-11-${String(1 + (id % 5)).padStart(2, '0')} 10:${String(j % 60).padStart(2, '0')}:00,${customer},c${customer}@example.com,M${j % 4},${COUNTRIES[id % 3]},${(id % 997) / 4},${id % 2 ? 'EUR' : 'SEK'},${STATUS[id % 4]},n`);
  }
  const file = path.join(inputs, `t${String(i).padStart(2, '0')}.csv`);
  writeFileSync(file, lines.join('\n') + '\n');
  names.push(file);
}

/** `inline`: every stage inline (the run without units: see the header). */
function setup(caseName: string, resumable = true, inline = false): { dir: string; config: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  const config = ws.config(
    {
      name: 'nightly-resume',
      source: { format: 'csv', path: path.join(inputs, '*.csv'), batchRows: 40, schema: { customer_id: 'utf8' } },
      stages: [
        { name: 'clean', module: path.join(REPO, 'stages/clean.ts'), mode: 'inline' },
        { name: 'pseudonymise', module: path.join(REPO, 'stages/pseudonymise.ts'), mode: inline ? 'inline' : 'thread', concurrency: 2, options: { salt: 's', columns: ['customer_id'], drop: ['email'] } },
        { name: 'aggregate', module: path.join(REPO, 'stages/aggregate.ts'), mode: inline ? 'inline' : 'process', concurrency: 1 },
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

/** `sluice run --resume` killed -9 with its whole tree where it stopped itself (`stopAt`). */
async function killTreeAt(config: string, stopAt: string): Promise<void> {
  // The aggregate's child process and the watcher, at least.
  expect(await killTree(BIN, ['run', config, '--resume', '--quiet'], stopAt)).toBeGreaterThanOrEqual(2);
}

let reference: Map<string, Buffer>;
let referenceDir: string;
let referenceReport: RunReport;
let plainDir: string;

beforeAll(async () => {
  const ref = setup('reference');
  const plain = setup('plain', false, true);
  // Both at once, as before through two CLI children: their copies run while the other waits.
  const [refReport] = await Promise.all([runEmbeddedOk(ref.config), runEmbeddedOk(plain.config)]);
  reference = outputBytes(ref.dir);
  referenceReport = refReport;
  referenceDir = ref.dir;
  plainDir = plain.dir;
});

describe('resume with a stateful stage downstream', () => {
  it('an uninterrupted resumable run runs its aggregate live (nothing replayed at the commit) and gives the totals of a run without units', async () => {
    expect(referenceReport.units).toEqual({ runId: expect.any(String), total: FILES, reused: [], read: names, tail: { ran: 'live', replayed: 0 } });
    expect(referenceReport.stages.find((s) => s.name === 'aggregate')?.rowsIn).toBe((FILES * ROWS * 3) / 4);
    const want = await totals(plainDir);
    expect(want.length).toBeGreaterThan(10);
    expect(await totals(referenceDir)).toEqual(want);
    expect(await rows(referenceDir)).toEqual(await rows(plainDir));
    expect(readdirSync(path.join(referenceDir, 'out')).sort()).toEqual(['rows.ndjson', 'totals.parquet']);
  });

  it(`kill -9 of the whole tree with file ${KILL_AT + 1} in flight, then --resume: the uninterrupted output, files 1–${KILL_AT} not read again`, async () => {
    const { dir, config } = setup('killed');
    await killTreeAt(config, `unit-${KILL_AT}`);
    const report = path.join(dir, 'report.json');
    const r = await runCli(['run', config, '--resume', '--quiet', '--report', report]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    // The aggregate ran at the commit over every unit's staged rows (one batch per source batch).
    expect(rep.units).toEqual({ runId: expect.any(String), total: FILES, reused: names.slice(0, KILL_AT), read: names.slice(KILL_AT), tail: { ran: 'commit', replayed: FILES * BATCHES_PER_FILE } });
    expect(rep.source.rows).toBe((FILES - KILL_AT) * ROWS);
    // The aggregate saw every row left after clean (a quarter are status 'test'): the staged units' and this run's.
    const stage = (name: string) => rep.stages.find((s: { name: string }) => s.name === name);
    expect(stage('clean').rowsIn).toBe((FILES - KILL_AT) * ROWS);
    expect(stage('aggregate').rowsIn).toBe((FILES * ROWS * 3) / 4);
    expect(outputBytes(dir)).toEqual(reference);
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['rows.ndjson', 'totals.parquet']);
    expect(await totals(dir)).toEqual(await totals(plainDir));
    expect(await rows(dir)).toEqual(await rows(plainDir));
  });

  it('kill -9 half-way through the replay at the job commit: the old outputs stay whole; --resume finishes the commit', async () => {
    const { dir, config } = setup('commit-killed');
    mkdirSync(path.join(dir, 'out'));
    // The outputs of an earlier night, different from tonight's.
    writeFileSync(path.join(dir, 'out/totals.parquet'), readFileSync(path.join(plainDir, 'out/totals.parquet')));
    writeFileSync(path.join(dir, 'out/rows.ndjson'), '{"txn_id":1}\n');
    const before = outputBytes(dir);
    await killTreeAt(config, 'replay');
    expect(outputBytes(dir)).toEqual(before);
    const report = await runEmbeddedOk(config, { units: 'resume' });
    // Every unit was staged before the commit began: none is read again.
    expect(report.units).toMatchObject({ reused: names, read: [], tail: { ran: 'commit', replayed: FILES * BATCHES_PER_FILE } });
    expect(outputBytes(dir)).toEqual(reference);
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['rows.ndjson', 'totals.parquet']);
  });
});
