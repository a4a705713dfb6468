/**
 * fixSourceTypes (the column types a resumable or incremental run keeps, and a cluster driver
 * gives every unit) reads the first file's first batch. A bad value there is the run's to take
 * out when source.onError is skip or dead-letter (it reads that batch again and rejects the row):
 * fixing the types must not fail on it. With onError fail (the default) it fails, naming the
 * file, line and column, as the run would. CSV and NDJSON, each action.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixSourceTypes, type SourceOptions } from '../../../../src/io/sources';
import { workspace } from '../../../helpers/workspace';

const ws = workspace('sluice-fix-types-');
afterAll(() => ws.cleanup());

const csv = path.join(ws.dir, 'in.csv');
writeFileSync(csv, 'id,x\n1,0.5\n2,oops\n3,1.5\n');
const ndjson = path.join(ws.dir, 'in.ndjson');
// Not JSON: a bad row whatever the types (NDJSON keeps the types it reads: no source.schema).
writeFileSync(ndjson, '{"id":1,"x":0.5}\n{"id":2,"x":\n{"id":3,"x":1.5}\n');

const cases = [
  { format: 'csv', file: csv },
  { format: 'ndjson', file: ndjson },
] as const;

describe.each(cases)('$format, a bad value on line 2 or 3 of the first batch', ({ format, file }) => {
  const cfg = (onError?: 'fail' | 'skip' | 'dead-letter') => ({ format, path: file, batchRows: 10, ...(format === 'csv' && { schema: { id: 'int64', x: 'float64' } }), ...(onError && { onError }) }) as unknown as SourceOptions;

  it.each(['skip', 'dead-letter'] as const)('onError %s: the types are fixed, the row left to the run', async (onError) => {
    const fixed = await fixSourceTypes(cfg(onError), file);
    expect(Object.keys(fixed)).toEqual([format]);
  });

  it.each([undefined, 'fail'] as const)('onError %s: fails naming the file and line (and the column, for CSV)', async (onError) => {
    const where = format === 'csv' ? 'line 3, column "x"' : 'line 2';
    await expect(fixSourceTypes(cfg(onError), file)).rejects.toThrow(`${file}, ${where}`);
  });
});
