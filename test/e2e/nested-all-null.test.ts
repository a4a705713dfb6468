/**
 * A nested column null for a whole batch (a Parquet row group of nulls), through a stage in
 * every mode, into every sink. A list null for a whole batch through a thread stage crashed
 * the Parquet and Arrow sinks ("Cannot read properties of undefined (reading 'subarray')"):
 * its empty child buffers crossed shared memory as missing ones. The input has every nested
 * kind (list, large list, fixed-size list, struct, map, dictionary, list of structs) in one
 * file, row groups of 2, the first all null. Every mode × every sink (12 cells, the kinds in
 * one batch) runs in this process through the real executors and sinks; the reported case
 * also runs through the CLI. Each output, read back by another reader, must hold pyarrow's
 * values.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataType } from 'apache-arrow';
import pino from 'pino';
import { createExecutor, type StageExecutor } from '../../src/executors';
import type { OwnedBatch } from '../../src/batch/owned';
import { openSink } from '../../src/io/sinks';
import { openSource } from '../../src/io/sources';
import type { PlannedStage } from '../../src/plan/types';
import { readBack, type Columns } from '../helpers/canon-read';
import { runCli } from '../helpers/cli';
import { UNITS_DIR, normaliseExpected, pyarrowReads } from '../helpers/parquet-units';
import { FIXTURE_STAGES, workspace } from '../helpers/workspace';

const INPUT = path.join(UNITS_DIR, 'pa-nested-all-null.parquet');
const MODES = ['inline', 'thread', 'process'] as const;
const SINKS = ['parquet', 'arrow', 'csv', 'ndjson'] as const;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-all-null-'));
const log = pino({ level: 'silent' });

const expected = pyarrowReads()['pa-nested-all-null.parquet'].columns!;
const want: Columns = Object.fromEntries(Object.entries(expected).map(([c, { type, values }]) => [c, values.map((v) => normaliseExpected(v, type))]));
let types: Record<string, DataType>;

async function expectOutput(sink: (typeof SINKS)[number], file: string) {
  const got = await readBack(sink, file, types);
  for (const column of Object.keys(want)) expect({ sink, column, values: got[column] }).toEqual({ sink, column, values: want[column] });
}

describe.each(MODES)('%s stage', (mode) => {
  let executor: StageExecutor;
  const outputs: OwnedBatch[] = [];
  beforeAll(async () => {
    const stage: PlannedStage = { name: 'same', modulePath: path.join(FIXTURE_STAGES, 'identity.ts'), mode, copies: 1, slotsPerCopy: 1, options: {}, output: { capacity: 4, capacityBytes: 1 << 28 } };
    executor = createExecutor(stage, { log });
    await executor.start();
    const source = await openSource({ format: 'parquet', path: INPUT, batchRows: 2 });
    for await (const owned of source.batches()) {
      types ??= Object.fromEntries(owned.batches[0].schema.fields.map((f) => [f.name, f.type]));
      outputs.push(await executor.process(owned));
    }
    expect(outputs).toHaveLength(2);
    expect(outputs[0].batches[0].getChild('list')!.nullCount).toBe(2); // the all-null batch
  });
  afterAll(async () => {
    for (const o of outputs) o.release();
    await executor.abort();
  });

  it.each(SINKS)('→ %s sink: written, every value as pyarrow reads the input', async (format) => {
    const file = path.join(dir, `${mode}.${format}`);
    const sink = await openSink({ format, path: file });
    try {
      for (const [seq, out] of outputs.entries()) for (const batch of out.batches) await sink.write(batch, { seq });
      await sink.commit();
    } catch (err) {
      await sink.abort(); // its encoder threads would keep jest alive
      throw err;
    }
    await expectOutput(format, file);
  });
});

it('the reported case through the CLI: thread stage → Parquet sink exits 0 with every value', async () => {
  const ws = workspace('sluice-all-null-');
  try {
    const config = ws.config({
      name: 'all-null',
      source: { format: 'parquet', path: INPUT, batchRows: 2 },
      stages: [{ name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'thread' }],
      sink: { format: 'parquet', path: 'out/o.parquet' },
    });
    const r = await runCli(['run', config, '--quiet', '--log-level', 'error']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    await expectOutput('parquet', path.join(ws.dir, 'out', 'o.parquet'));
  } finally {
    ws.cleanup();
  }
});
