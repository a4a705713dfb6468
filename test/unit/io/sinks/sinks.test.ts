/** Round trips through every sink, RFC 4180 quoting, atomic commit, modes, partitioning. */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataType, Float64, Table, tableFromArrays, vectorFromArray, type RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import { openSink } from '../../../../src/io/sinks';
import { encodeSegment, partitionDir } from '../../../../src/io/sinks/partition';
import { textFormatter } from '../../../../src/batch/text-values';
import { openSource } from '../../../../src/io/sources';
import { readRowGroups } from '../../../../src/io/parquet/footer';
import type { SinkConfig } from '../../../../src/config/types';
import { allTypesBatch, expectBatchesEqual } from '../../../helpers/arrow-types';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-sink-'));
let k = 0;
const target = (ext: string) => path.join(dir, `o${k++}.${ext}`);

async function write(cfg: SinkConfig, batches: RecordBatch[]) {
  const sink = await openSink(cfg);
  for (const [seq, b] of batches.entries()) await sink.write(b, { seq });
  return sink.commit();
}

async function readBack(format: SinkConfig['format'], p: string): Promise<RecordBatch[]> {
  const source = await openSource({ format, path: p, batchRows: 1000 });
  const out: RecordBatch[] = [];
  for await (const { batch } of source.batches()) out.push(batch);
  return out;
}

/** Every cell as sluice's own text form (ISO dates, exact ints, JSON for nested). */
const cells = (b: RecordBatch, column: string) => {
  const f = textFormatter(b.getChild(column)!);
  return Array.from({ length: b.numRows }, (_, i) => f(i));
};

describe('round trips', () => {
  it('Arrow IPC keeps every type exactly, a dictionary as its values (one dictionary per field in a file)', async () => {
    const p = target('arrow');
    const batch = allTypesBatch(9);
    await write({ format: 'arrow', path: p }, [batch, batch.slice(2, 5)]);
    const back = await readBack('arrow', p);
    // What it should hold, built by apache-arrow's own builder from each dictionary's values.
    const asValues = (b: RecordBatch) =>
      new Table(
        Object.fromEntries(
          b.schema.fields.map((f) => {
            const v = b.getChild(f.name)!;
            return [f.name, DataType.isDictionary(f.type) ? vectorFromArray(Array.from({ length: v.length }, (_, i) => v.get(i)), f.type.dictionary) : v];
          }),
        ),
      ).batches[0];
    expect(batch.schema.fields.filter((f) => DataType.isDictionary(f.type)).map((f) => f.name)).toEqual(['dict']);
    expectBatchesEqual(back[0], asValues(batch));
    expectBatchesEqual(back[1], asValues(batch.slice(2, 5)));
  });

  // What a format cannot keep (documented in the README): Parquet via polars stores Map as
  // list<struct<key, value>>, widens Time32 to Time64[ns] and reads Date64 back as a timestamp;
  // NDJSON objects come back as structs.
  // polars has no second unit: timestamp[s] comes back as timestamp[ms]; CSV times come back as time64[ns] (same values, more digits).
  const lossy: Record<string, string[]> = { parquet: ['map', 'time_ms', 'date_ms', 'ts_s'], ndjson: ['map'], csv: ['ts_s', 'time_ms'] };

  it.each(['parquet', 'csv', 'ndjson'] as const)('%s gives back every value of every type it can hold', async (format) => {
    const p = target(format);
    const batch = allTypesBatch(9);
    await write({ format, path: p }, [batch]);
    const [back] = await readBack(format, p);
    expect(back.numRows).toBe(9);
    for (const f of batch.schema.fields) {
      if (lossy[format].includes(f.name)) continue;
      expect({ column: f.name, cells: cells(back, f.name) }).toEqual({ column: f.name, cells: cells(batch, f.name) });
    }
  });

  it('CSV quotes delimiters, quotes, CR/LF and keeps unicode, exactly as read back', async () => {
    const p = target('csv');
    const values = ['plain', 'a,b', 'say "hi"', 'line1\nline2', 'cr\r\nlf', 'ünï ✓', '', null];
    await write({ format: 'csv', path: p }, [tableFromArrays({ v: values as string[] }).batches[0]]);
    expect(readFileSync(p, 'utf8')).toBe('v\nplain\n"a,b"\n"say ""hi"""\n"line1\nline2"\n"cr\r\nlf"\nünï ✓\n""\n\n');
    const back = pl.readCSV(p, { inferSchemaLength: 0, ignoreErrors: false });
    expect(back.getColumn('v').toArray()).toEqual(values);
  });

  it('NDJSON writes 64-bit integers exactly', async () => {
    const p = target('ndjson');
    await write({ format: 'ndjson', path: p }, [tableFromArrays({ id: BigInt64Array.of(9007199254740993n, -1n) }).batches[0]]);
    expect(readFileSync(p, 'utf8')).toBe('{"id":9007199254740993}\n{"id":-1}\n');
  });

  it('Parquet honours compression and row-group size', async () => {
    const p = target('parquet');
    const n = 10_000;
    await write({ format: 'parquet', path: p, compression: 'snappy', rowGroupSize: 2500 }, [tableFromArrays({ x: Int32Array.from({ length: n }, (_, i) => i) }).batches[0]]);
    expect((await readRowGroups(p)).length).toBe(4);
  });
});

describe('a column whose type changes between batches', () => {
  const numbers = tableFromArrays({ id: Float64Array.from([1, 2]) }).batches[0];
  const strings = tableFromArrays({ id: ['3', '4'] }).batches[0];
  const bigints = tableFromArrays({ id: BigInt64Array.from([5n, 6n]) }).batches[0];

  // Parquet and Arrow refused it already (schema); CSV and NDJSON wrote "1.0" then "3" (or 1.0 then "3").
  it.each(['csv', 'ndjson', 'parquet', 'arrow'] as const)('is refused by the %s sink, naming the column, and nothing is committed', async (format) => {
    for (const second of [strings, bigints]) {
      const out = target(format);
      const sink = await openSink({ format, path: out });
      const err = await (async () => {
        for (const [seq, b] of [numbers, second].entries()) await sink.write(b, { seq });
      })().catch((e: unknown) => e);
      await sink.abort(); // as the run does: the temporary goes, and the sink's lock
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).toMatch(format === 'csv' || format === 'ndjson' ? /column "id" holds (string|integer) values \((Dictionary<Int32, Utf8>|Int64)\) from row 3, but float values from row 1/ : /differs from the first batch's/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it.each(['csv', 'ndjson'] as const)('is written by the %s sink where the text is the same: a dictionary and its values, Int32 and Int64, all-null or empty batches', async (format) => {
    const out = target(format);
    const nulls = new Table({ id: vectorFromArray([null, null], new Float64()) }).batches[0];
    const none = tableFromArrays({ id: ['x'] }).slice(0, 0).batches[0];
    await write({ format, path: out }, [none, strings, tableFromArrays({ id: vectorFromArray(['5']) as never }).batches[0], nulls]);
    const back = readFileSync(out, 'utf8');
    expect(back).toContain('3');
    expect(back).toContain('5');
    const ints = target(format);
    await write({ format, path: ints }, [tableFromArrays({ id: Int32Array.from([1]) }).batches[0], bigints]);
    expect(readFileSync(ints, 'utf8').trim().split('\n').slice(-3)).toEqual(format === 'csv' ? ['1', '5', '6'] : ['{"id":1}', '{"id":5}', '{"id":6}']);
  });
});

describe('atomic commit', () => {
  const batch = tableFromArrays({ x: Int32Array.of(1, 2, 3) }).batches[0];
  const siblings = (p: string) => readdirSync(path.dirname(p)).filter((f) => f.includes(path.basename(p)));

  it.each(['parquet', 'csv', 'ndjson', 'arrow'] as const)('%s: abort after some batches leaves no output and no temp files', async (format) => {
    const p = target(format);
    const before = readdirSync(dir).sort();
    const sink = await openSink({ format, path: p });
    await sink.write(batch, { seq: 0 });
    await sink.write(batch, { seq: 1 });
    expect(readdirSync(dir).length).toBeGreaterThan(before.length); // written, under a temp name
    expect(existsSync(p)).toBe(false);
    await sink.abort();
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a failed overwrite leaves the previous output untouched; a commit replaces it', async () => {
    const p = target('csv');
    writeFileSync(p, 'old\n1\n');
    const failed = await openSink({ format: 'csv', path: p });
    await failed.write(batch, { seq: 0 });
    await failed.abort();
    expect(readFileSync(p, 'utf8')).toBe('old\n1\n');
    await write({ format: 'csv', path: p }, [batch]);
    expect(readFileSync(p, 'utf8')).toBe('x\n1\n2\n3\n');
    expect(siblings(p)).toEqual([path.basename(p)]);
  });

  it('error-if-exists refuses before any work; append adds to CSV but not to Parquet', async () => {
    const p = target('csv');
    writeFileSync(p, 'x\n0\n');
    await expect(openSink({ format: 'csv', path: p, mode: 'error-if-exists' })).rejects.toThrow(/already exists and sink.mode is "error-if-exists"/);
    await write({ format: 'csv', path: p, mode: 'append' }, [batch]);
    expect(readFileSync(p, 'utf8')).toBe('x\n0\n1\n2\n3\n');
    const pq = target('parquet');
    await write({ format: 'parquet', path: pq }, [batch]);
    await expect(openSink({ format: 'parquet', path: pq, mode: 'append' })).rejects.toThrow(/cannot add to an existing parquet file/);
  });
});

describe('partitioned output', () => {
  const walk = (root: string): string[] =>
    readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(root, e.name)) : [path.join(root, e.name)]));

  it('writes Hive-style directories with the right rows and a _SUCCESS marker', async () => {
    const root = path.join(dir, 'parts');
    const b = tableFromArrays({ day: ['2026-11-24', '2026-11-25', '2026-11-24'], v: Int32Array.of(1, 2, 3) }).batches[0];
    const result = await write({ format: 'parquet', path: root, partitionBy: ['day'] }, [b]);
    expect(result.rows).toBe(3);
    expect(existsSync(path.join(root, '_SUCCESS'))).toBe(true);
    const files = walk(root).map((f) => path.relative(root, f)).sort();
    expect(files.filter((f) => f !== '_SUCCESS').map((f) => path.dirname(f))).toEqual(['day=2026-11-24', 'day=2026-11-25']);
    // (copied out of the day=… directory: polars would add hive columns from the path)
    const plainCopy = path.join(dir, 'day24.parquet');
    copyFileSync(path.join(root, files.find((f) => f.startsWith('day=2026-11-24'))!), plainCopy);
    const day24 = pl.readParquet(plainCopy);
    expect(day24.columns).toEqual(['v']);
    expect(day24.getColumn('v').toArray()).toEqual([1, 3]);
  });

  it('hostile partition values never leave the output directory', async () => {
    const root = path.join(dir, 'hostile');
    const hostile = ['../../etc', 'a/b', '..', '.', '%2e%2e', '', null, 'x\u0000y', '..\\..\\win', '.hidden', 'k=v'];
    const b = tableFromArrays({ key: hostile as string[], v: Int32Array.from(hostile.map((_, i) => i)) }).batches[0];
    const result = await write({ format: 'csv', path: root, partitionBy: ['key'] }, [b]);
    expect(result.rows).toBe(hostile.length);
    const all = walk(root);
    expect(all.every((f) => path.resolve(f).startsWith(path.resolve(root) + path.sep))).toBe(true);
    const dirs = new Set(all.map((f) => path.relative(root, path.dirname(f))).filter((d) => d));
    for (const d of dirs) {
      expect(d.split(path.sep)).toHaveLength(1); // one level: no value became a path separator
      expect(d.startsWith('key=')).toBe(true);
      expect(d.slice(4).startsWith('.')).toBe(false);
    }
    expect(existsSync(path.join(dir, 'etc'))).toBe(false);
    expect(encodeSegment('../../etc')).toBe('%2E.%2F..%2Fetc');
    expect(() => partitionDir(root, ['k'], ['ok'])).not.toThrow();
  });

  it('keeps at most maxOpenFiles writers open and still routes every row', async () => {
    const root = path.join(dir, 'lru');
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const batches = [0, 1, 2].map((r) => tableFromArrays({ k: keys, v: Int32Array.from(keys.map((_, i) => r * 10 + i)) }).batches[0]);
    const result = await write({ format: 'ndjson', path: root, partitionBy: ['k'], maxOpenFiles: 2 }, batches);
    expect(result.rows).toBe(15);
    const rows = walk(root)
      .filter((f) => f.endsWith('.ndjson'))
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => `${path.basename(path.dirname(f))}:${JSON.parse(l).v}`));
    expect(rows.sort()).toEqual(keys.flatMap((key, i) => [0, 1, 2].map((r) => `k=${key}:${r * 10 + i}`)).sort());
  });
});

describe('commit checks the run just before it publishes', () => {
  // The run passes its guard here: a stage error that came while the sink closed and synced.
  it.each([
    ['a file', { format: 'csv' as const, path: '' }],
    ['a partitioned directory', { format: 'csv' as const, path: '', partitionBy: ['k'] }],
  ])('a throw in beforeRename publishes nothing to %s, and abort leaves nothing', async (_, cfg) => {
    const p = path.join(dir, `late-${k++}`);
    const sink = await openSink({ ...cfg, path: p });
    await sink.write(tableFromArrays({ k: ['a', 'b'], v: Int32Array.of(1, 2) }).batches[0], { seq: 0 });
    await expect(sink.commit(() => { throw new Error('the run failed meanwhile'); })).rejects.toThrow('the run failed meanwhile');
    expect(existsSync(p)).toBe(false);
    await sink.abort();
    expect(readdirSync(dir).filter((f) => f.startsWith(path.basename(p)) || f.includes(`${path.basename(p)}.`))).toEqual([]);
  });
});
