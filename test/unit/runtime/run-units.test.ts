/**
 * A resumable run's column types (runtime/run-units.ts): fixed once, by the run's first file,
 * and kept in the manifest so a resumed run reads its units with them. The run does not read
 * its first file for them before it starts (that was a second parse of the inference rows on
 * the main thread, ahead of everything: issue 26's overhead); its source tells the types its
 * reader fixed (`onFixedTypes`), once and before the first batch, on the main thread or from the
 * source thread, and they are exactly what fixSourceTypes gives for that file: inferred,
 * declared, dates with their shape, rows past the inference sample, a ragged row the run takes
 * out (source.onError), NDJSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { resolveChecked } from '../../../src/check';
import { fixSourceTypes, openSource, type FixedSourceTypes, type SourceOptions } from '../../../src/io/sources';
import { openThreadSource } from '../../../src/io/sources/thread';
import { buildPlan, withDeclarations } from '../../../src/plan/build';
import { openUnits, recordTypes } from '../../../src/runtime/run-units';
import { workspace } from '../../helpers/workspace';

const ws = workspace('sluice-fix-types-');
afterAll(() => ws.cleanup());

const rows = (n: number, row: (i: number) => string) => Array.from({ length: n }, (_, i) => row(i)).join('\n');
const CASES: { name: string; text: string; source?: Partial<SourceOptions>; ext?: string }[] = [
  { name: 'inferred types, fractional only in the first rows', text: `id,v,day,ts,name\n${rows(30, (i) => `${i},${i < 5 ? i + 0.5 : i},2026-01-${String((i % 28) + 1).padStart(2, '0')},2026-01-01 10:00:${String(i % 60).padStart(2, '0')},n${i}`)}\n` },
  { name: 'a declared column', text: `id,code\n${rows(20, (i) => `${i},${String(i).padStart(5, '0')}`)}\n`, source: { schema: { code: 'utf8' } } },
  { name: 'more rows than the inference sample and than a batch', text: `id,x,y\n${rows(12_050, (i) => `${i},${i},${i === 12_040 ? '' : i / 2}`)}\n`, source: { batchRows: 4096 } },
  { name: 'a ragged row the run takes out (onError: skip)', text: `a,b\n1,2\n3\n4,5.5\n`, source: { onError: 'skip' } },
  { name: 'NDJSON', text: `${rows(50, (i) => JSON.stringify({ id: i, v: i < 3 ? i + 0.5 : i, s: `s${i}` }))}\n`, source: { format: 'ndjson' }, ext: 'ndjson' },
];

/** What a source told through onFixedTypes (as JSON, as the manifest keeps it), and how many batches had come before. */
async function told(open: (onFixedTypes: (t: FixedSourceTypes) => void) => Promise<{ batches(): AsyncGenerator<{ release(): void }>; close(): Promise<void> }>) {
  const tellings: { json: string; batchesBefore: number }[] = [];
  let batches = 0;
  const source = await open((t) => tellings.push({ json: JSON.stringify(t), batchesBefore: batches }));
  try {
    for await (const b of source.batches()) {
      batches++;
      b.release();
    }
  } finally {
    await source.close();
  }
  return { tellings, batches };
}

describe("a resumable run's column types are the ones its source's reader fixed", () => {
  it.each(CASES)('$name: told once, before the first batch, on the main thread and from the source thread', async ({ name, text, source, ext }) => {
    const first = path.join(ws.dir, `${name.replace(/\W+/g, '-')}-1.${ext ?? 'csv'}`);
    // A second file: its rows fix nothing (the first file's types hold for it), so nothing more is told.
    const second = path.join(ws.dir, `${name.replace(/\W+/g, '-')}-2.${ext ?? 'csv'}`);
    writeFileSync(first, text);
    writeFileSync(second, text);
    const cfg = { format: 'csv', path: [first, second], batchRows: 65_536, ...source } as SourceOptions;
    const salvage = source?.onError ? { onBadRow: () => undefined } : {};
    const expected = JSON.stringify(await fixSourceTypes(cfg, first));
    for (const open of [(onFixedTypes: (t: FixedSourceTypes) => void) => openSource(cfg, { onFixedTypes, ...salvage }), (onFixedTypes: (t: FixedSourceTypes) => void) => openThreadSource(cfg, { onFixedTypes, ...salvage })]) {
      const { tellings, batches } = await told(open);
      expect(batches).toBeGreaterThan(0);
      expect(tellings).toEqual([{ json: expected, batchesBefore: 0 }]);
    }
  });

  it('types given to the source (a resumed run, from its manifest) are not told again', async () => {
    const file = path.join(ws.dir, 'given.csv');
    writeFileSync(file, `a,b\n1,x\n`);
    const cfg = { format: 'csv', path: file, batchRows: 100 } as SourceOptions;
    const fixedTypes = await fixSourceTypes(cfg, file);
    const { tellings } = await told((onFixedTypes) => openSource({ ...cfg, fixedTypes }, { onFixedTypes }));
    expect(tellings).toEqual([]);
  });

  it("a fresh resumable run's units open without reading an input file; the run's source records the types in the manifest", async () => {
    const dir = path.join(ws.dir, 'no-pre-read');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.csv'), 'x,y\n1,2\n');
    writeFileSync(path.join(dir, 'b.csv'), 'x,y\n1,2\n');
    const config = ws.config({ name: 'no-pre-read', source: { format: 'csv', path: 'no-pre-read/*.csv' }, sink: { format: 'csv', path: 'no-pre-read/out/o.csv' }, stages: [], resumable: true });
    const r = await resolveChecked(config);
    const plan = withDeclarations(buildPlan(r.config, r), r);
    // Now a first row no reader accepts (invalid UTF-8): reading the first file to fix the types would fail here.
    writeFileSync(path.join(dir, 'a.csv'), Buffer.concat([Buffer.from('x,y\n'), Buffer.from([0xff, 0xfe]), Buffer.from(',2\n')]));
    const target = path.join(dir, 'out', 'o.csv');
    const units = await openUnits(plan, [target], { units: 'fresh' }, pino({ level: 'silent' }), 0, undefined, []);
    try {
      expect(units.schema).toBeUndefined();
      const record = recordTypes(units, plan.source.format);
      expect(record).toBeDefined();
      const types = await fixSourceTypes(plan.source, path.join(dir, 'b.csv'));
      record!(types);
      await units.idle();
      const lines = readFileSync(units.manifestFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
      expect(lines.filter((l) => l.type === 'schema')).toEqual([JSON.parse(JSON.stringify({ type: 'schema', ...types }))]);
      // Recorded once: a resumed run's units are read with these.
      expect(recordTypes(units, plan.source.format)).toBeUndefined();
    } finally {
      await units.abort();
    }
  });
});
