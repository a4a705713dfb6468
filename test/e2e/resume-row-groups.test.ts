/**
 * Resumable runs over one big Parquet file (io/units/ranges.ts): 8 row groups of 2048 rows
 * (written by DuckDB) cut by `source.unitRows: 4096` into 4 units of 2 row groups each, read in
 * batches of 1000 (so batches straddle nothing but row groups end inside them). A thread stage
 * throws on 3 ids, in units 1, 3 and 4, which go to the dead-letter output with their row
 * numbers in the file. The whole process tree is SIGKILLed once unit 1 is recorded (unit 2 in
 * flight); `--resume` reads units 2–4 only (the report says so) and writes outputs byte for byte
 * an uninterrupted run's (a single Parquet file whose row groups end at the units' edges, a
 * CSV, a partitioned Parquet directory, the rejects), with the same rejects per place and reason; DuckDB reads the same rows as a
 * run without units.
 * The killed run and the `--resume` after it are CLI commands (test/helpers/cli.ts); the
 * reference runs (with and without units) are whole runs in the test's process
 * (test/helpers/embedded-run.ts: the same engine and copies, without a CLI child's start-up).
 * The run without units runs its stage inline: its answer is the same in every mode
 * (modes.test.ts), and no thread copies start for it.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli } from '../helpers/cli';
import { runEmbeddedOk } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { killTreeAt } from '../helpers/processes';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

jest.setTimeout(240_000);

const ws = workspace('sluice-resume-rg-');
afterAll(() => ws.cleanup());

const GROUP = 2048;
const GROUPS = 8;
const input = path.join(ws.dir, 'in', 'big.parquet');
mkdirSync(path.dirname(input));
/** One in unit 1 (row 101), one in unit 3 (row 9001), one in unit 4 (the file's last row). */
const THROWS = [100, 9000, GROUP * GROUPS - 1];

/** `inline`: the stage inline (the run without units: its answer is the same in every mode, modes.test.ts; no thread copies to start). */
function setup(caseName: string, extra: { resumable?: boolean; unitRows?: number; inline?: boolean } = {}): { dir: string; config: string } {
  const dir = path.join(ws.dir, caseName);
  mkdirSync(dir);
  const config = ws.config(
    {
      name: 'resume-rg',
      source: { format: 'parquet', path: input, batchRows: 1000, unitRows: extra.unitRows ?? 2 * GROUP },
      stages: [{ name: 'gate', module: path.join(FIXTURE_STAGES, 'throws-on-ids.ts'), ...(extra.inline ? { mode: 'inline' } : { mode: 'thread', concurrency: 2 }), onError: 'dead-letter', options: { ids: THROWS } }],
      sinks: [
        { name: 'pq', format: 'parquet', path: path.join(dir, 'out/all.parquet'), rowGroupSize: 3000 },
        { name: 'csv', format: 'csv', path: path.join(dir, 'out/all.csv') },
        { name: 'dir', format: 'parquet', path: path.join(dir, 'out/parts'), partitionBy: ['name'] },
      ],
      deadLetter: { format: 'ndjson', path: path.join(dir, 'out/rejects.ndjson') },
      ...((extra.resumable ?? true) && { resumable: true }),
    },
    `${caseName}.config.ts`,
  );
  return { dir, config };
}

/** Every output file under `dir/out` (partition files too, named without the run id) → its bytes. */
const outputs = (dir: string) =>
  new Map(
    readdirSync(path.join(dir, 'out'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const file = path.join(e.parentPath, e.name);
        // Partition files are named by the run id, a function of the sink paths (another per case).
        return [path.relative(path.join(dir, 'out'), file).replace(/-[0-9a-f]{16}\./, '-ID.'), readFileSync(file)];
      }),
  );
const rows = (dir: string) => duckRows(`select count(*)::int as n, sum(id)::bigint as ids, sum(x)::double as xs from read_parquet('${path.join(dir, 'out/all.parquet')}')`);
const rejects = (dir: string) => duckRows(`select origin, stage, file, "row"::int as "row", reason from read_json_auto('${path.join(dir, 'out/rejects.ndjson')}') order by "row"`);
const groupRows = (dir: string) =>
  duckRows(`select row_group_id::int as g, any_value(row_group_num_rows)::int as n from parquet_metadata('${path.join(dir, 'out/all.parquet')}') group by all order by g`);

const unitNames = [0, 2, 4, 6].map((g) => `${input} (row groups ${g}–${g + 1})`);
let reference: Map<string, Buffer>;
let referenceDir: string;
let referenceCounts: unknown;
let plainDir: string;

beforeAll(async () => {
  await duckRows(
    `copy (select i::bigint as id, 'n' || (i % 7)::varchar as name, (i * 0.5)::double as x from range(${GROUP * GROUPS}) t(i)) to '${input}' (format parquet, row_group_size ${GROUP})`,
  );
  const ref = setup('reference');
  const plain = setup('plain', { resumable: false, inline: true });
  // Both at once, as before through two CLI children: their copies run while the other waits.
  const [refReport] = await Promise.all([runEmbeddedOk(ref.config), runEmbeddedOk(plain.config)]);
  reference = outputs(ref.dir);
  referenceDir = ref.dir;
  plainDir = plain.dir;
  // As the CLI's --report file has it (JSON).
  const rep = JSON.parse(JSON.stringify(refReport));
  referenceCounts = rep.rejected.counts;
  expect(rep.units).toMatchObject({ total: 4, reused: [], read: unitNames });
});

describe('a big Parquet input cut into row-group ranges', () => {
  it('the input has 8 row groups; an uninterrupted run reads the rows a run without units reads, and ends row groups at the units\' edges', async () => {
    expect((await duckRows(`select count(distinct row_group_id)::int as n from parquet_metadata('${input}')`))[0].n).toBe(GROUPS);
    expect(await rows(referenceDir)).toEqual(await rows(plainDir));
    const parts = (dir: string) => duckRows(`select name, count(*)::int as n, sum(id)::bigint as ids from read_parquet('${path.join(dir, 'out/parts/**/*.parquet')}', hive_partitioning = true) group by name order by name`);
    expect(await parts(referenceDir)).toEqual(await parts(plainDir));
    expect((await rows(referenceDir))[0].n).toBe(GROUP * GROUPS - THROWS.length);
    expect(await rejects(referenceDir)).toEqual(await rejects(plainDir));
    expect((await rejects(referenceDir)).map((r) => r.row)).toEqual(THROWS.map((id) => id + 1));
    // 4096 rows per unit (less the one rejected in units 1, 3 and 4), each cut at 3000.
    expect((await groupRows(referenceDir)).map((g) => g.n)).toEqual([3000, 1095, 3000, 1096, 3000, 1095, 3000, 1095]);
  });

  it('kill -9 with unit 2 in flight, then --resume: unit 1 is not read again; outputs and rejects are the uninterrupted run\'s, byte for byte', async () => {
    const { dir, config } = setup('killed');
    await killTreeAt(BIN, ['run', config, '--resume', '--quiet'], 'unit-1');
    const report = path.join(dir, 'report.json');
    const r = await runCli(['run', config, '--resume', '--quiet', '--report', report]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.units).toMatchObject({ total: 4, reused: unitNames.slice(0, 1), read: unitNames.slice(1) });
    expect(rep.source.rows).toBe(3 * 2 * GROUP);
    expect(rep.rejected.counts).toEqual(referenceCounts);
    expect(await rejects(dir)).toEqual(await rejects(plainDir));
    expect(outputs(dir)).toEqual(reference);
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['all.csv', 'all.parquet', 'parts', 'rejects.ndjson']);
    expect(outputs(dir).size).toBe(3 + 7 + 1); // 7 partitions, and _SUCCESS
  });
});
