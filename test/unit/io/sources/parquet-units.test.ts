/**
 * Parquet physical/logical types read exactly (issue 23): every fixture of
 * test/fixtures/data/parquet/units/ (pyarrow- and DuckDB-written; make-parquet-units.py)
 * is read by sluice and must equal pyarrow's own reading of it (the committed JSON), value
 * for value, in a canonical form that does not depend on the unit a reader picks. Then the
 * batches go into every sink and what each wrote, read back by another reader (apache-arrow,
 * DuckDB, JSON), must still equal it (test/helpers/canon-read.ts). If a python with pyarrow
 * is on the PATH (SLUICE_PYARROW=path/to/python), its live reading is compared too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataType, DateMillisecond, Dictionary, Field, MessageReader, Schema, Table, TimeSecond, Vector, type RecordBatch } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { SourceError } from '../../../../src/errors';
import { decodeStruct, encodeStruct, field, type ThriftList, type ThriftStruct } from '../../../../src/io/parquet/thrift';
import { openSink } from '../../../../src/io/sinks';
import { openSource } from '../../../../src/io/sources';
import { readBack, type Columns } from '../../../helpers/canon-read';
import { UNITS_DIR, canonOf, normaliseExpected, pyarrowReads, type Canon } from '../../../helpers/parquet-units';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-parquet-units-'));
const expected = pyarrowReads();
const fixtures = Object.keys(expected).filter((f) => expected[f].columns);
const SINKS = ['parquet', 'arrow', 'csv', 'ndjson'] as const;

async function readWithSluice(name: string): Promise<RecordBatch[]> {
  const source = await openSource({ format: 'parquet', path: path.join(UNITS_DIR, name), batchRows: 1000 });
  const batches: RecordBatch[] = [];
  for await (const owned of source.batches()) batches.push(...owned.batches);
  return batches;
}

function columnsOf(batches: RecordBatch[]): Columns {
  const out: Columns = {};
  for (const batch of batches) {
    for (const f of batch.schema.fields) {
      const v = batch.getChild(f.name)!;
      (out[f.name] ??= []).push(...Array.from({ length: v.length }, (_, i) => canonOf(v, i)));
    }
  }
  return out;
}

function wanted(name: string): Columns {
  return Object.fromEntries(Object.entries(expected[name].columns!).map(([c, { type, values }]) => [c, values.map((v) => normaliseExpected(v, type))]));
}

/** A dictionary column under an id of its own (two files' dictionaries both have id 0). */
function freshDictionaryId(v: Vector): Vector {
  if (!DataType.isDictionary(v.type)) return v;
  const t = v.type as Dictionary;
  const type = new Dictionary(t.dictionary, t.indices, null, t.isOrdered);
  return new Vector(v.data.map((d) => d.clone(type)));
}

/** Column by column, so a failure names the column. */
function expectColumns(actual: Columns, want: Columns, where: string) {
  expect(Object.keys(actual)).toEqual(Object.keys(want));
  for (const column of Object.keys(want)) expect({ where, column, values: actual[column] }).toEqual({ where, column, values: want[column] as Canon[] });
}

it('the fixtures cover every unit the brief names', () => {
  const types = Object.values(expected).flatMap((f) => Object.values(f.columns ?? {}).map((c) => c.type));
  for (const t of ['time32[ms]', 'time64[us]', 'time64[ns]', 'timestamp[ms]', 'timestamp[us, tz=UTC]', 'timestamp[ns, tz=Europe/Paris]', 'date32[day]', 'decimal128(38, 10)', 'uint64', 'halffloat', 'large_string', 'large_binary']) {
    expect(types).toContain(t);
  }
  expect(fixtures.length).toBeGreaterThanOrEqual(23);
  // a decimal on each physical type: INT32, INT64, FIXED_LEN_BYTE_ARRAY (pa-decimals-*), BYTE_ARRAY (hand-written)
  expect(fixtures).toEqual(expect.arrayContaining(['pa-decimals-int.parquet', 'pa-decimals-flba.parquet', 'hand-decimal-byte-array.parquet', 'duckdb-decimals.parquet']));
});

describe.each(fixtures)('%s', (name) => {
  it('is read by sluice as pyarrow reads it, every value', async () => {
    expectColumns(columnsOf(await readWithSluice(name)), wanted(name), 'sluice');
  });
});

/**
 * Into every sink: the fixtures of one row count side by side in one batch (columns named
 * `file:column`), so each sink is opened once per row count, not once per fixture (a Parquet
 * sink starts its encoder threads: ~2 s each).
 */
describe.each(SINKS)('written to %s', (format) => {
  const groups = new Map<number, string[]>();
  for (const name of fixtures) groups.set(expected[name].rows!, [...(groups.get(expected[name].rows!) ?? []), name]);

  it.each([...groups.entries()].map(([rows, names]) => [rows, names.join(', ')]))(
    "and read back by another reader, every value of the fixtures of %d rows is still pyarrow's (%s)",
    async (rows) => {
      const names = groups.get(rows)!;
      const columns: Record<string, Vector> = {};
      const want: Columns = {};
      for (const name of names) {
        const table = new Table(await readWithSluice(name));
        for (const f of table.schema.fields) columns[`${name}:${f.name}`] = freshDictionaryId(table.getChild(f.name)!);
        for (const [c, values] of Object.entries(wanted(name))) want[`${name}:${c}`] = values;
      }
      const batches = new Table(columns).batches;
      const types = Object.fromEntries(batches[0].schema.fields.map((f) => [f.name, f.type]));
      const file = path.join(dir, `${rows}.${format}`);
      // snappy: hyparquet (one of the readers) decodes it without add-ons
      const sink = await openSink({ format, path: file, ...(format === 'parquet' && { compression: 'snappy' as const }) });
      try {
        for (const [seq, batch] of batches.entries()) await sink.write(batch, { seq });
        await sink.commit();
      } catch (err) {
        await sink.abort(); // its encoder threads would keep jest alive
        throw err;
      }
      expectColumns(await readBack(format, file, types), want, format);
    },
  );
});

/** A python that has pyarrow: SLUICE_PYARROW, else python3 if it imports pyarrow. */
function pythonWithPyarrow(): string | undefined {
  for (const python of [process.env.SLUICE_PYARROW, 'python3'].filter(Boolean) as string[]) {
    try {
      execFileSync(python, ['-c', 'import pyarrow'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  return undefined;
}
const python = pythonWithPyarrow();

(python ? it : it.skip)('pyarrow, live (a python with pyarrow was found), reads the fixtures as the committed JSON says', () => {
  const script = path.resolve(__dirname, '../../../fixtures/scripts/make-parquet-units.py');
  const live = JSON.parse(execFileSync(python!, [script, '--read'], { encoding: 'utf8', maxBuffer: 1 << 24 })) as Record<string, { columns?: unknown }>;
  for (const name of Object.keys(expected)) expect({ name, columns: live[name]?.columns }).toEqual({ name, columns: expected[name].columns });
});

describe('a time or date hint sluice cannot check is refused, never guessed', () => {
  /** pa-ints.parquet with its ARROW:schema saying `i32` is `type` (the Parquet column stays a plain INT32). */
  function withHint(type: DataType): string {
    const bytes = readFileSync(path.join(UNITS_DIR, 'pa-ints.parquet'));
    const length = bytes.readUInt32LE(bytes.length - 8);
    const meta = decodeStruct(bytes.subarray(bytes.length - 8 - length, bytes.length - 8)).struct;
    const kv = ((field(meta, 5)!.value as ThriftList).items as ThriftStruct[]).find((e) => Buffer.from(field(e, 1)!.value as Uint8Array).toString() === 'ARROW:schema')!;
    const schema = new MessageReader(Buffer.from(Buffer.from(field(kv, 2)!.value as Uint8Array).toString(), 'base64')).readSchema()!;
    const hinted = new Schema(schema.fields.map((f) => (f.name === 'i32' ? new Field(f.name, type, f.nullable) : f)));
    const body = Message.encode(Message.from(hinted));
    const framed = Buffer.alloc(8 + Math.ceil(body.length / 8) * 8);
    framed.writeInt32LE(-1, 0);
    framed.writeInt32LE(framed.length - 8, 4);
    framed.set(body, 8);
    field(kv, 2)!.value = Buffer.from(framed.toString('base64'));
    const footer = encodeStruct(meta);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(footer.length, 0);
    tail.write('PAR1', 4, 'latin1');
    const file = path.join(dir, `hint-${String(type).replace(/\W+/g, '-')}.parquet`);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, bytes.length - 8 - length), footer, tail]));
    return file;
  }

  it.each([
    [new TimeSecond(), /column "i32" is time32\[s\] in its Arrow schema \(ARROW:schema\) but not a TIME in Parquet, so its unit is unknown/],
    [new DateMillisecond(), /column "i32" is a date in its Arrow schema \(ARROW:schema\) but not a DATE in Parquet/],
  ])('%s over a plain INT32: refused naming file and column', async (type, message) => {
    const file = withHint(type);
    const err = await readWithSluice(path.relative(UNITS_DIR, file)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(message);
  });
});
