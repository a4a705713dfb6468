/**
 * The NDJSON half of the later-values matrix: every type NDJSON inference gives a column
 * (int64, float64, bool, utf8, list, struct, null) × every JSON form a value can take × where
 * the value stands (in the batch that fixes the types, a later batch of the same file, a later
 * file). Each cell is either read exactly (compared with the JSON text's value, integers by
 * their digits) or an error naming the file and the value's line. The full product (7 × 15 × 3
 * cells) is run in-process through openSource, so no pairwise cut is needed; a few cells go
 * through the CLI to Parquet and DuckDB in test/e2e/ndjson-later-values.test.ts.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSource } from '../../../../src/io/sources';
import { RawNumber, parseRaw } from '../../../../src/io/sources/ndjson-raw';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-ndjson-strict-'));
let n = 0;

/** The first batch's value of each column type. */
const TYPES = {
  int64: '1',
  float64: '1.5',
  bool: 'true',
  utf8: '"a"',
  list: '[1]',
  struct: '{"b":1}',
  null: 'null',
} as const;
type Type = keyof typeof TYPES;

/** The JSON forms a later value can take. */
const FORMS = {
  integer: '7',
  'integer beyond 2^53': '9007199254740993',
  fraction: '2.5',
  'float without fraction': '2.0',
  exponent: '1e3',
  'beyond int64': '9223372036854775808',
  'beyond uint64': '18446744073709551616',
  'string of digits': '"123"',
  boolean: 'false',
  null: 'null',
  'empty string': '""',
  object: '{"b":2}',
  array: '[2]',
  'lone surrogate': '"x\\ud800"',
  'surrogate pair': '"\\ud83d\\ude00"',
} as const;
type Form = keyof typeof FORMS;

type Place = 'first batch' | 'later batch' | 'later file';

const isInt = (f: Form) => f === 'integer' || f === 'integer beyond 2^53';
const isFloat = (f: Form) => f === 'fraction' || f === 'float without fraction' || f === 'exponent';
const isString = (f: Form) => f === 'string of digits' || f === 'empty string' || f === 'surrogate pair';
/** The kind of JSON value each type's first value is. */
const KIND: Record<Type, string> = { int64: 'number', float64: 'number', bool: 'boolean', utf8: 'string', list: 'array', struct: 'object', null: 'null' };
function kindOf(f: Form): string {
  if (isInt(f) || isFloat(f)) return 'number';
  if (isString(f)) return 'string';
  return { boolean: 'boolean', null: 'null', object: 'object', array: 'array' }[f as string] ?? 'other';
}

/** The rule: exact, or refused. */
function accepted(type: Type, form: Form, place: Place): boolean {
  if (form === 'null') return true;
  if (form === 'beyond int64' || form === 'beyond uint64' || form === 'lone surrogate') return false; // no type holds them
  if (type === 'null') return place === 'first batch'; // a later value in a column typed null before it came
  if (KIND[type] !== kindOf(form)) return false;
  if (type === 'float64' && form === 'integer beyond 2^53') return false; // float64 would round it
  if (type === 'int64' && isFloat(form)) return place === 'first batch'; // widens the column in the batch that fixes it
  return true;
}

/** A JSON value as comparable text: integers by their digits, floats by their value. */
function canonical(v: unknown): unknown {
  if (v instanceof RawNumber) return v.integer ? BigInt(v.text).toString() : String(Number(v.text));
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]));
  return v;
}

function write(p: string, lines: string[]): string {
  writeFileSync(p, lines.map((v) => `{"v":${v}}`).join('\n') + '\n');
  return p;
}

/** Files for the cell, the line (and file) of the form's value, and the batch size. */
function layout(type: Type, form: Form, place: Place): { paths: string[]; file: string; line: number; batchRows: number } {
  const d = path.join(dir, `c${n++}`);
  mkdirSync(d);
  const base = TYPES[type];
  const v = FORMS[form];
  if (place === 'first batch') return { paths: [write(`${d}/a.ndjson`, [base, v])], file: `${d}/a.ndjson`, line: 2, batchRows: 10 };
  if (place === 'later batch') return { paths: [write(`${d}/a.ndjson`, [base, base, v])], file: `${d}/a.ndjson`, line: 3, batchRows: 2 };
  return { paths: [write(`${d}/a.ndjson`, [base]), write(`${d}/b.ndjson`, [base, v])], file: `${d}/b.ndjson`, line: 2, batchRows: 10 };
}

async function readValues(paths: string[], batchRows: number): Promise<unknown[]> {
  const source = await openSource({ format: 'ndjson', path: paths, batchRows });
  const values: unknown[] = [];
  try {
    for await (const b of source.batches()) {
      // copied out before release: nested values are views of the batch's memory
      for (const row of b.batches[0].toArray()) values.push(plain((row.toJSON() as { v: unknown }).v));
      b.release();
    }
  } finally {
    await source.close();
  }
  return values.map(canonical);
}

/** An Arrow value as plain JSON-like data (64-bit integers as bigint). */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)), (_, x: unknown) => (typeof x === 'string' && /^-?\d+n$/.test(x) ? BigInt(x.slice(0, -1)) : x));
}

const places: Place[] = ['first batch', 'later batch', 'later file'];
const cells = places.flatMap((place) => (Object.keys(TYPES) as Type[]).map((type) => [place, type] as const));

describe.each(cells)('%s, a column typed %s', (place, type) => {
  it.each(Object.keys(FORMS) as Form[])('a value written %s is read exactly or refused with its line', async (form) => {
    const { paths, file, line, batchRows } = layout(type, form, place);
    const read = readValues(paths, batchRows);
    if (accepted(type, form, place)) {
      const values = await read;
      expect(values[values.length - 1]).toEqual(canonical(parseRaw(FORMS[form])));
      expect(values[0]).toEqual(canonical(parseRaw(TYPES[type])));
    } else {
      await expect(read).rejects.toThrow(`${file}, line ${line}, column "v": value`);
    }
  });
});

describe('a text column of digits is checked by its bytes (ndjson-keys.ts), and what the quick look cannot settle line by line', () => {
  const lines = (rows: string[]) => {
    const d = path.join(dir, `k${n++}`);
    mkdirSync(d);
    const p = path.join(d, 'a.ndjson');
    writeFileSync(p, rows.join('\n') + '\n');
    return p;
  };
  it('a number under a key written with an escape is still found (a nested string under the same key cannot make up the count)', async () => {
    const p = lines(['{"v":"01","o":{"v":"a"}}', '{"v":"02","o":{"v":"b"}}', '{"\\u0076":5}']);
    await expect(readValues([p], 10)).rejects.toThrow(`${p}, line 3, column "v": value 5 is a number, where line 1 has a string`);
  });
  it('a number under the same key nested elsewhere is not the column\'s value', async () => {
    const p = lines(['{"v":"01","o":{"v":1}}', '{"v":"02","o":{"v":2}}', '{"v":"03","o":{"v":3}}']);
    expect(await readValues([p], 2)).toEqual(['01', '02', '03']);
  });
  it('spaces around the colon do not hide a number', async () => {
    const p = lines(['{"v" : "01"}', '{"v":"02"}', '{"v" :  7 }']);
    await expect(readValues([p], 10)).rejects.toThrow(`${p}, line 3, column "v": value 7 is a number, where line 1 has a string`);
  });
});
