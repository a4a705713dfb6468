/**
 * The same pipeline gives identical output in inline, thread and process modes, in input
 * order. Whole runs in the test's process (test/helpers/embedded-run.ts): the thread and
 * process copies are real threads and children either way, and nothing here is about the
 * command around the run. Each configuration runs once; the tests that need the same run
 * share it (`runIn` remembers it).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import type { RunReport } from '../../src/runtime/types';
import { runEmbedded, runEmbeddedOk } from '../helpers/embedded-run';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 5000);
});
afterAll(() => ws.cleanup());

function rowsOf(file: string): unknown[] {
  const table = tableFromIPC(readFileSync(file));
  return table.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))));
}

const runs = new Map<string, Promise<{ rows: unknown[]; report: RunReport }>>();

/** The run of this configuration, made once (a second test asking for it gets the same run). */
function runIn(mode: string, concurrency: number, source: { thread?: boolean } = {}, againCopies = 1): Promise<{ rows: unknown[]; report: RunReport }> {
  const label = `${mode}${source.thread ? '-source-thread' : ''}${againCopies > 1 ? '-fused' : ''}`;
  const known = runs.get(label);
  if (known) return known;
  const out = `out/${label}.arrow`;
  const cfg = ws.config(
    {
      name: `modes-${label}`,
      source: { format: 'csv', path: 'in.csv', batchRows: 333, inferRows: 333, ...source },
      stages: [
        { name: 'transform', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode, concurrency },
        { name: 'again', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode, concurrency: againCopies },
      ],
      sink: { format: 'arrow', path: out },
    },
    `${label}.config.ts`,
  );
  const made = runEmbedded(cfg).then(({ report, error, logs }) => {
    if (error) throw error;
    // Nothing went wrong on the way (a copy's error logged while the run still ended well).
    expect(logs.filter((l) => /error/i.test(l))).toEqual([]);
    return { rows: rowsOf(path.join(ws.dir, out)), report };
  });
  runs.set(label, made);
  return made;
}

describe('same answer in every mode', () => {
  it('inline, thread and process runs produce identical output in input order', async () => {
    const inline = await runIn('inline', 1);
    const thread = await runIn('thread', 2);
    const proc = await runIn('process', 2);
    expect(inline.rows).toHaveLength(5000);
    expect((inline.rows[0] as { id: unknown }).id).toBeDefined();
    expect(inline.rows.map((r) => Number((r as { id: string }).id))).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(thread.rows).toEqual(inline.rows);
    expect(proc.rows).toEqual(inline.rows);
    // the report shows where the work ran
    expect(thread.report.stages[0]).toMatchObject({ name: 'transform', mode: 'thread', copies: 2, rowsIn: 5000, rowsOut: 5000 });
    expect(thread.report.stages[0].transport.bytesCopied).toBe(0);
    expect(proc.report.stages[0]).toMatchObject({ mode: 'process', copies: 2, batchesIn: 16 });
    expect(proc.report.stages[0].transport.bytesSerialized).toBeGreaterThan(0);
    // both thread stages with 2 copies: fused into one worker, the same output
    const fused = await runIn('thread', 2, {}, 2);
    expect(fused.report.stages.map((s: { name: string }) => s.name)).toEqual(['transform+again']);
    expect(fused.rows).toEqual(inline.rows);
  });

  it('a thread stage first parses the CSV in its copies (fused) and gives the same output as with a source thread', async () => {
    const fused = await runIn('thread', 2);
    const unfused = await runIn('thread', 2, { thread: true });
    expect(fused.rows).toEqual(unfused.rows);
    expect(fused.rows).toHaveLength(5000);
    // fused: every row parsed in the stage's copies, on worker threads (main's id is 0)
    expect(fused.report.stages[0].parsed!.rows).toBe(5000);
    expect(fused.report.stages[0].parsed!.threads.length).toBeGreaterThanOrEqual(1);
    expect(fused.report.stages[0].parsed!.threads).not.toContain(0);
    expect(fused.report.source).toMatchObject({ rows: 5000, batches: 16 });
    // with a source thread asked for, the stage parses nothing
    expect(unfused.report.stages[0].parsed).toEqual({ rows: 0, threads: [] });
  });

  it('fused, each chunk is parsed on the thread that runs the stage on it', async () => {
    const cfg = ws.config(
      {
        name: 'where-parsed',
        source: { format: 'csv', path: 'in.csv', batchRows: 250, inferRows: 250 },
        stages: [{ name: 'where', module: path.join(FIXTURE_STAGES, 'where-ran.ts'), mode: 'thread', concurrency: 2 }],
        sink: { format: 'arrow', path: 'out/where.arrow' },
      },
      'where.config.ts',
    );
    const report = await runEmbeddedOk(cfg);
    const ranOn = [...new Set(tableFromIPC(readFileSync(path.join(ws.dir, 'out/where.arrow'))).getChild('ranOn')!.toArray() as Int32Array)].sort();
    expect(ranOn).not.toContain(0);
    expect(report.stages[0].parsed!.threads).toEqual(ranOn);
    expect(report.stages[0].parsed!.rows).toBe(5000);
  });
});

describe('odd column names through every hand-off', () => {
  // A column named "" used to come out of any stage as "null", merging with a real "null" column (1,2,3 → 1,2,2).
  // One run (CSV) covers every hand-off; the NDJSON writer takes the same batches (test/unit/batch/arrow-names.test.ts).
  it('CSV keeps "", "null" and quoted names with their own values through inline, thread and process stages', async () => {
    const format = 'csv';
    const dir = path.join(ws.dir, 'names');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'in.csv'), 'a,"",null,"odd, ""q"""\n1,2,3,4\n');
    const echo = path.join(FIXTURE_STAGES, 'proc-echo.ts');
    const cfg = ws.config(
      {
        name: `names-${format}`,
        source: { format: 'csv', path: 'names/in.csv' },
        stages: (['inline', 'thread', 'process'] as const).map((mode) => ({ name: mode, module: echo, mode })),
        sink: { format, path: `out/names.${format}` },
      },
      `names-${format}.config.ts`,
    );
    await runEmbeddedOk(cfg);
    expect(readFileSync(path.join(ws.dir, `out/names.${format}`), 'utf8')).toBe('a,"",null,"odd, ""q"""\n1,2,3,4\n');
  });
});
