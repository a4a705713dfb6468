/**
 * Parsing a chunk of a wide CSV costs a fixed number of native polars calls that list or
 * rename columns, whatever the width: `inspect` of a 3-row file with 10 000 columns took 13 s
 * of CPU (most of it in polars' rename(mapping): one native rename per column, each listing
 * every column). Counted on polars' native DataFrame class, so no timing is involved.
 */
import pl from 'nodejs-polars';
import { DTYPES, parseChunk, type CsvParse } from '../../../src/csv/parse';
import { textCheck } from '../../../src/csv/strict';
import { countNative } from '../../helpers/polars-calls';

/** A chunk of `width` integer columns and 3 rows, as the reader builds it (internal header c0…). */
function chunk(width: number, projected?: string[]): { chunk: Parameters<typeof parseChunk>[0]; parse: CsvParse } {
  const names = Array.from({ length: width }, (_, i) => `col ${i}`);
  const internal = names.map((_, i) => `c${i}`);
  const prefix = internal.join(',') + '\n';
  const rows = [0, 1, 2].map((r) => names.map((_, i) => String(r * width + i)).join(',')).join('\n') + '\n';
  const columns = projected ?? names;
  const types = Object.fromEntries(names.map((n) => [n, 'int64' as const]));
  const parse: CsvParse = {
    file: 'wide.csv',
    base: { hasHeader: true, sep: ',', quoteChar: '"', ignoreErrors: false },
    columns,
    fields: columns.map((c) => internal[names.indexOf(c)]),
    types,
  };
  return { chunk: { text: Buffer.from(prefix + rows), prefixLength: prefix.length, rows: 3, firstLine: 2 }, parse };
}

it.each([
  ['every column', undefined],
  ['a projection in another order', ['col 5', 'col 1', 'col 3']],
])('the native column calls of parsing %s do not grow with the width', (_what, projected) => {
  const counts = [50, 500, 2000].map((width) => {
    const { chunk: c, parse } = chunk(width, projected);
    let df: pl.DataFrame | undefined;
    const calls = countNative(() => void (df = parseChunk(c, parse))) as number;
    expect(df!.columns).toEqual(parse.columns);
    expect(df!.dtypes.every((t) => String(t) === String(DTYPES.int64))).toBe(true);
    expect(df!.getColumn(parse.columns[0]).toArray().map(Number)).toEqual([0, 1, 2].map((r) => r * width + Number(parse.columns[0].slice(4))));
    return calls;
  });
  expect(counts[1]).toBe(counts[0]);
  expect(counts[2]).toBe(counts[0]);
  expect(counts[0]).toBeLessThanOrEqual(3);
});

it('the strict-text check looks columns up by name, not by scanning the header per column', () => {
  // 20 000 columns: a scan per column would be 2 × 10^8 comparisons; a lookup is 20 000.
  const names = Array.from({ length: 20_000 }, (_, i) => `c${i}`);
  const indexOf = jest.spyOn(Array.prototype, 'indexOf');
  try {
    const check = textCheck(names, names, Object.fromEntries(names.map((n) => [n, { type: 'int64' as const, origin: 'inferred' as const }])), 'the first rows');
    expect(check?.fields.length).toBe(names.length);
    expect(indexOf.mock.calls.length).toBeLessThan(100);
  } finally {
    indexOf.mockRestore();
  }
});
