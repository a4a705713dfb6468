/**
 * What a sink wrote, read back by a reader other than sluice and put in parquet-units.ts's
 * canonical form: Arrow IPC by apache-arrow, Parquet by DuckDB (its value classes keep every
 * digit: micro/nanoseconds, decimals as unscaled bigint), CSV cells by DuckDB as text, NDJSON
 * by JSON.parse after every number is quoted (its text kept exactly). A text is accepted only
 * in the form README "What each format keeps" documents for the column's type (the type
 * sluice gave the sink), so a value in another form fails the comparison.
 */
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { DataType, Type, tableFromIPC, type Field } from 'apache-arrow';
import { canonOf, floatCanon, type Canon } from './parquet-units';

const NS = [1_000_000_000n, 1_000_000n, 1_000n, 1n];

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function days(y: number, m: number, d: number): bigint {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return BigInt(era * 146097 + doe - 719468);
}

const fractionNs = (f: string | undefined) => BigInt((f ?? '').padEnd(9, '0').slice(0, 9) || '0');

function parseTime(text: string): bigint {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) throw new Error(`not a documented time text: ${JSON.stringify(text)}`);
  return (BigInt(m[1]) * 3600n + BigInt(m[2]) * 60n + BigInt(m[3])) * 1_000_000_000n + fractionNs(m[4]);
}

function parseTimestamp(text: string): string {
  const m = /^([+-]?\d{4,})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(Z?)$/.exec(text);
  if (!m) throw new Error(`not a documented timestamp text: ${JSON.stringify(text)}`);
  return `${days(Number(m[1]), Number(m[2]), Number(m[3])) * 86_400_000_000_000n + parseTime(m[4])}${m[5]}`;
}

function parseDate(text: string): string {
  const m = /^([+-]?\d{4,})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new Error(`not a documented date text: ${JSON.stringify(text)}`);
  return String(days(Number(m[1]), Number(m[2]), Number(m[3])));
}

function parseDuration(text: string): string {
  const m = /^(-?)PT(\d+)(?:\.(\d{1,9}))?S$/.exec(text);
  if (!m) throw new Error(`not a documented duration text: ${JSON.stringify(text)}`);
  const ns = BigInt(m[2]) * 1_000_000_000n + fractionNs(m[3]);
  return String(m[1] ? -ns : ns);
}

const className = (v: unknown) => (v as object).constructor?.name ?? '';

/** A value as any reader gave it (text, number, DuckDB value, parsed JSON) for a column of Arrow type `type`. */
export function canonFrom(value: unknown, type: DataType): Canon {
  if (value === null || value === undefined) return null;
  const t = type as DataType & Record<string, unknown>;
  const v = value as Record<string, unknown>;
  switch (type.typeId) {
    case Type.Dictionary:
      return canonFrom(value, t.dictionary as DataType);
    case Type.Timestamp: {
      if (typeof value === 'string') return parseTimestamp(value);
      const zone = className(value).includes('TZ') ? 'Z' : '';
      if ('nanos' in v) return `${v.nanos as bigint}${zone}`;
      if ('micros' in v) return `${(v.micros as bigint) * 1000n}${zone}`;
      if ('millis' in v) return `${(v.millis as bigint) * 1_000_000n}${zone}`;
      if ('seconds' in v) return `${(v.seconds as bigint) * 1_000_000_000n}${zone}`;
      break;
    }
    case Type.Time:
      if (typeof value === 'string') return String(parseTime(value));
      if ('nanos' in v) return String(v.nanos);
      if ('micros' in v) return String((v.micros as bigint) * 1000n);
      break;
    case Type.Date:
      if (typeof value === 'string') return parseDate(value);
      if ('days' in v) return String(v.days);
      break;
    case Type.Duration:
      if (typeof value === 'string') return parseDuration(value);
      // Parquet has no duration: the file holds int64s in the unit of the Arrow type written
      if (typeof value === 'bigint' || typeof value === 'number') return String(BigInt(value) * NS[t.unit as number]);
      break;
    case Type.Decimal:
      if (typeof value === 'string') {
        if (!/^-?\d+(\.\d+)?$/.test(value)) throw new Error(`not a documented decimal text: ${value}`);
        return value;
      }
      if ('scale' in v) return decimalText(v.value as bigint, v.scale as number);
      break;
    case Type.Int:
      if (typeof value === 'string' && !/^-?\d+$/.test(value)) throw new Error(`not an integer text: ${value}`);
      return String(value);
    case Type.Bool:
      if (value === true || value === 'true') return 'true';
      if (value === false || value === 'false') return 'false';
      break;
    case Type.Float: {
      // float32 is written as the shortest text that reads back to the same float32 (README)
      const n = typeof value === 'number' ? value : Number(floatCanon(value as string));
      return floatCanon(t.precision === 1 ? Math.fround(n) : n);
    }
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
    case Type.BinaryView:
      if (typeof value === 'string') return Buffer.from(value, 'base64').toString('hex');
      if ('bytes' in v) return Buffer.from(v.bytes as Uint8Array).toString('hex');
      break;
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
      return String(value);
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const items = Array.isArray(value) ? value : (v.items as unknown[]);
      return items.map((x) => canonFrom(x, type.children[0].type));
    }
    case Type.Struct: {
      const entries = (className(value).startsWith('DuckDB') ? v.entries : value) as Record<string, unknown>;
      return Object.fromEntries(type.children.map((f: Field) => [f.name, canonFrom(entries[f.name], f.type)]));
    }
  }
  throw new Error(`cannot read ${JSON.stringify(value, (_k, x) => (typeof x === 'bigint' ? String(x) : x))} (${className(value)}) as ${String(type)}`);
}

function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}` : digits;
  return negative ? `-${text}` : text;
}

/** JSON text with every number token quoted (outside strings), so no digit is lost to float64. */
export function quoteNumbers(json: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      out += c;
      if (c === '\\') out += json[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(json.slice(i))!;
      out += `"${m[0]}"`;
      i += m[0].length - 1;
    } else out += c;
  }
  return out;
}

export type Columns = Record<string, Canon[]>;

/** Every column of what `format` wrote to `file`, canonical; `types` are the Arrow types sluice gave the sink. */
export async function readBack(format: 'arrow' | 'parquet' | 'csv' | 'ndjson', file: string, types: Record<string, DataType>): Promise<Columns> {
  const out: Columns = {};
  if (format === 'arrow') {
    const table = tableFromIPC(readFileSync(file));
    for (const f of table.schema.fields) out[f.name] = Array.from({ length: table.numRows }, (_, i) => canonOf(table.getChild(f.name)!, i));
    return out;
  }
  if (format === 'ndjson') {
    const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(quoteNumbers(line)) as Record<string, unknown>);
    for (const [name, type] of Object.entries(types)) out[name] = rows.map((r) => canonFrom(r[name], type));
    return out;
  }
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    // CSV: `""` is an empty string, an empty field null (sluice writes them so; DuckDB's default reads both as null)
    const sql = format === 'parquet' ? `SELECT * FROM read_parquet('${file}')` : `SELECT * FROM read_csv('${file}', all_varchar = true, header = true, allow_quoted_nulls = false)`;
    const reader = await c.runAndReadAll(sql);
    const names = reader.columnNames();
    const rows = reader.getRows();
    for (const [k, name] of names.entries()) {
      const type = types[name];
      if (!type) throw new Error(`the sink wrote a column "${name}" sluice did not give it`);
      // CSV: a nested value is a JSON text field
      const nested = DataType.isList(type) || DataType.isLargeList(type) || DataType.isFixedSizeList(type) || DataType.isStruct(type);
      out[name] = rows.map((r) => canonFrom(format === 'csv' && nested && r[k] !== null ? JSON.parse(quoteNumbers(r[k] as string)) : r[k], type));
    }
    if (format === 'parquet') Object.assign(out, await parquetTimestamps(file, types));
    return out;
  } finally {
    c.closeSync();
  }
}

/**
 * Top-level timestamp columns of a Parquet file by hyparquet, as the stored integers: DuckDB
 * reads a zoned nanosecond timestamp as microseconds (TIMESTAMPTZ), dropping digits.
 */
async function parquetTimestamps(file: string, types: Record<string, DataType>): Promise<Columns> {
  const names = Object.keys(types).filter((n) => DataType.isTimestamp(types[n]));
  if (!names.length) return {};
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const raw = (v: bigint) => v;
  const rows = (await parquetReadObjects({
    file: buffer,
    metadata,
    columns: names,
    parsers: { timestampFromMilliseconds: raw, timestampFromMicroseconds: raw, timestampFromNanoseconds: raw } as never,
  })) as Record<string, bigint | null>[];
  const out: Columns = {};
  for (const name of names) {
    const el = metadata.schema.find((e) => e.name === name)!;
    const logical = el.logical_type as { type: string; unit: string; isAdjustedToUTC: boolean } | undefined;
    if (logical?.type !== 'TIMESTAMP') throw new Error(`${name}: not a Parquet TIMESTAMP (${JSON.stringify(logical)})`);
    const per = { MILLIS: 1_000_000n, MICROS: 1_000n, NANOS: 1n }[logical.unit]!;
    out[name] = rows.map((r) => (r[name] === null || r[name] === undefined ? null : `${BigInt(r[name]) * per}${logical.isAdjustedToUTC ? 'Z' : ''}`));
  }
  return out;
}
