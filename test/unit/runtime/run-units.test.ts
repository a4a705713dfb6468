/**
 * A resumable run fixes its source's column types before it starts (runtime/run-units.ts
 * fixTypes): for CSV from the first chunk as the source cuts it, without parsing that chunk.
 * They must be exactly the types the source's own reader fixes (io/sources fixSourceTypes, which
 * reads a whole first batch): inferred, declared, dates with their shape, rows past the
 * inference sample, a ragged row the run takes out (source.onError), a header-only file.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixSourceTypes } from '../../../src/io/sources';
import { fixTypes } from '../../../src/runtime/run-units';
import type { Plan } from '../../../src/plan/types';
import { workspace } from '../../helpers/workspace';

const ws = workspace('sluice-fix-types-');
afterAll(() => ws.cleanup());

const rows = (n: number, row: (i: number) => string) => Array.from({ length: n }, (_, i) => row(i)).join('\n');
const CASES: { name: string; text: string; source?: Partial<Plan['source']> }[] = [
  { name: 'inferred types, fractional only in the first rows', text: `id,v,day,ts,name\n${rows(30, (i) => `${i},${i < 5 ? i + 0.5 : i},2026-01-${String((i % 28) + 1).padStart(2, '0')},2026-01-01 10:00:${String(i % 60).padStart(2, '0')},n${i}`)}\n` },
  { name: 'a declared column', text: `id,code\n${rows(20, (i) => `${i},${String(i).padStart(5, '0')}`)}\n`, source: { schema: { code: 'utf8' } } },
  { name: 'more rows than the inference sample and than a batch', text: `id,x,y\n${rows(12_050, (i) => `${i},${i},${i === 12_040 ? '' : i / 2}`)}\n`, source: { batchRows: 4096 } },
  { name: 'a ragged row the run takes out (onError: skip)', text: `a,b\n1,2\n3\n4,5.5\n`, source: { onError: 'skip' } },
  { name: 'a header only', text: 'a,b\n' },
];

describe('a resumable run\'s CSV types, fixed without parsing the first chunk, are the source reader\'s', () => {
  it.each(CASES)('$name', async ({ name, text, source }) => {
    const file = path.join(ws.dir, `${name.replace(/\W+/g, '-')}.csv`);
    writeFileSync(file, text);
    const cfg = { format: 'csv', path: file, batchRows: 65_536, ...source } as Plan['source'];
    const expected = await fixSourceTypes(cfg, file);
    expect(await fixTypes(cfg, file)).toEqual(expected);
  });

  it('a bad value in the first chunk, past the inference sample, is left to the run\'s source (which fails on it, naming its line, as it does without units)', async () => {
    const file = path.join(ws.dir, 'bad-value.csv');
    writeFileSync(file, `id,x\n${rows(12_050, (i) => `${i},${i === 12_040 ? 'text' : i}`)}\n`);
    const cfg = { format: 'csv', path: file, batchRows: 4096 } as Plan['source'];
    await expect(fixSourceTypes(cfg, file)).rejects.toThrow(/line 12042, column "x": value "text" is not a valid int64/);
    expect((await fixTypes(cfg, file)).csv?.types).toEqual({ id: 'int64', x: 'int64' });
  });
});
