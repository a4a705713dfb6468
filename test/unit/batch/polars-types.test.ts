/**
 * The types of a polars frame found without asking nodejs-polars (src/batch/polars-types.ts):
 * Int128 (an NDJSON integer beyond int64) and binary, at the top level and nested, are the
 * types it cannot describe; every type it can is left to it. In-process: the panic text itself
 * is checked through the CLI (test/e2e/native-panics.test.ts).
 */
import pl from 'nodejs-polars';
import { columnTypes, undescribable, undescribableColumns } from '../../../src/batch/polars-types';

const ndjson = (text: string) => pl.readJSON(Buffer.from(text + '\n'), { format: 'lines' });

it.each([
  ['an integer beyond int64', '{"a":1,"b":99999999999999999999}', { path: 'b', type: 'Int128' }],
  ['one within uint64 only', '{"a":1,"b":10000000000000000000}', { path: 'b', type: 'Int128' }],
  ['in a list', '{"a":1,"b":[99999999999999999999]}', { path: 'b[]', type: 'Int128' }],
  ['in a struct', '{"a":1,"b":{"c":{"d":-9223372036854775809}}}', { path: 'b.c.d', type: 'Int128' }],
])('NDJSON: %s is found by path', (_what, text, found) => {
  expect(undescribable(ndjson(text))).toEqual(found);
});

it('each column holding one is keyed by its top-level name; a frame without one gives none', () => {
  const df = pl.DataFrame({ n: [1] }).withColumns(pl.lit('x').cast(pl.Utf8).alias('s'));
  expect(undescribable(df)).toBeUndefined();
  expect(undescribableColumns(ndjson('{"a":1,"b":[99999999999999999999],"c":"x"}'))).toEqual(new Map([['b', { path: 'b[]', type: 'Int128' }]]));
});

it('frames of the types it can describe are left to it (none found, dtypes asked as before)', () => {
  const df = ndjson('{"i":1,"f":1.5,"s":"x","b":true,"n":null,"l":[1,2],"st":{"k":"v"},"t":"2024-01-01"}');
  expect(undescribable(df)).toBeUndefined();
  expect(columnTypes(df).map((c) => c.type)).toEqual(df.dtypes.map((t) => String(t).replace(/^DataType\((.*)\)$/, '$1')));
});

it('columnTypes names an undescribable column by its Arrow type, the others by polars', () => {
  expect(columnTypes(ndjson('{"a":1,"b":99999999999999999999,"c":"x"}'))).toEqual([
    { name: 'a', type: 'Int64' },
    { name: 'b', type: 'Int128' },
    { name: 'c', type: 'String' },
  ]);
});
