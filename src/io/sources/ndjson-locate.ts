/**
 * Finding the NDJSON value a check refused, and saying why: the batch's lines parsed with their
 * numbers' text (ndjson-raw.ts) and held to the column types, for ndjson-strict.ts's check and
 * for a batch polars could not read at all. Slow paths: they run only when a value is wrong,
 * or may be.
 */
import type { DataType } from 'nodejs-polars';
import { SourceError } from '../../errors';
import { RawNumber, parseRaw, type RawValue } from './ndjson-raw';
import type { Shape } from './ndjson-schema';

/** The types every batch of a source is held to: the first batch's, and where they came from. */
export interface NdjsonTypes {
  types: Record<string, DataType>;
  file: string;
  lines: string;
}

/** Whole lines of a batch and where they start in the file. */
export interface Lines {
  bytes: Buffer;
  firstLine: number;
  count: number;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const SAFE = 2n ** 53n;

const shape = (t: DataType) => t as unknown as Shape;

/** A type as the user reads it: `int64`, `list<float64>`, `struct{a: utf8}`. */
export function typeName(t: DataType): string {
  const s = shape(t);
  switch (s.variant) {
    case 'List':
      return `list<${typeName(s.__inner!)}>`;
    case 'Struct':
      return `struct{${(s.fields ?? []).map((f) => `${f.name}: ${typeName(f.dtype)}`).join(', ')}}`;
    case 'String':
      return 'utf8';
    default:
      return String(s.variant).toLowerCase();
  }
}

export interface Misfit {
  line: number;
  column: string;
  path: string;
  value: RawValue;
  why: string;
  type: DataType;
}

/** Each record of the batch as written, with its physical line (blank lines hold none). */
function* records(lines: Lines): Generator<{ line: number; value: RawValue }> {
  let line = lines.firstLine;
  for (const text of lines.bytes.toString('utf8').split('\n')) {
    if (text.trim() !== '') yield { line, value: parseRaw(text) };
    line++;
  }
}

export function firstMisfit(lines: Lines, columns: { name: string; type: DataType }[]): Misfit | undefined {
  for (const { line, value } of records(lines)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RawNumber) continue;
    for (const { name, type } of columns) {
      if (!(name in value)) continue;
      const m = misfit(type, value[name], name);
      if (m) return { line, column: name, type, ...m };
    }
  }
  return undefined;
}

/** Why `type` does not hold `v` exactly, at `path`; undefined when it does. */
export function misfit(type: DataType, v: RawValue, path: string): { path: string; value: RawValue; why: string } | undefined {
  if (v === null) return undefined;
  const t = shape(type);
  const no = (why: string) => ({ path, value: v, why });
  const loose = looseValue(v, path);
  if (loose) return loose; // (found on a batch polars could read: a lone surrogate it took)
  switch (t.variant) {
    case 'Null':
      return no('is a value in a column that is null in every line of the first batch, so the column was typed null before this value came');
    case 'Int64':
      if (!(v instanceof RawNumber)) return no(`is ${kind(v)}, not an integer`);
      return v.integer ? undefined : no('has a fraction or an exponent, so inference would have typed the column float64, not int64');
    case 'Float64':
      if (!(v instanceof RawNumber)) return no(`is ${kind(v)}, not a number`);
      if (v.integer && (BigInt(v.text) > SAFE || BigInt(v.text) < -SAFE)) return no(`is an integer beyond 2^53 in a float64 column, which would round it to ${Number(v.text)}`);
      return undefined;
    case 'Bool':
      return typeof v === 'boolean' ? undefined : no(`is ${kind(v)}, not true or false`);
    case 'String':
      return typeof v === 'string' ? undefined : no(`is ${kind(v)}, not a string (as text it would be rewritten by polars)`);
    case 'List':
      if (!Array.isArray(v)) return no(`is ${kind(v)}, not an array`);
      for (let i = 0; i < v.length; i++) {
        const m = misfit(t.__inner!, v[i], `${path}[${i}]`);
        if (m) return m;
      }
      return undefined;
    case 'Struct':
      if (typeof v !== 'object' || Array.isArray(v) || v instanceof RawNumber) return no(`is ${kind(v)}, not an object`);
      for (const f of t.fields ?? []) {
        if (!(f.name in v)) continue;
        const m = misfit(f.dtype, v[f.name], `${path}.${f.name}`);
        if (m) return m;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** What no column type holds, at any depth: integers beyond int64, numbers beyond float64, lone surrogates. */
export function looseValue(v: RawValue, path: string): { path: string; value: RawValue; why: string } | undefined {
  if (v instanceof RawNumber) {
    if (v.integer) {
      const n = BigInt(v.text);
      if (n > INT64_MAX || n < INT64_MIN) return { path, value: v, why: 'is an integer beyond the range of int64, the widest integer NDJSON is read as; write it as a string ("…") to keep its digits' };
    } else if (!Number.isFinite(Number(v.text))) return { path, value: v, why: 'is beyond the range of float64' };
    return undefined;
  }
  if (typeof v === 'string') {
    return (v as string & { isWellFormed(): boolean }).isWellFormed() ? undefined : { path, value: v, why: 'holds a lone surrogate (an unpaired \\ud800–\\udfff escape), which UTF-8 text cannot hold; fix the escape or remove it' };
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const m = looseValue(v[i], `${path}[${i}]`);
      if (m) return m;
    }
  } else if (v !== null && typeof v === 'object') {
    for (const key of Object.keys(v)) {
      const m = looseValue(v[key], `${path}.${key}`);
      if (m) return m;
    }
  }
  return undefined;
}

function kind(v: RawValue): string {
  if (v instanceof RawNumber) return 'a number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}

function shown(v: RawValue): string {
  const text = v instanceof RawNumber ? v.text : JSON.stringify(v, (_, x: unknown) => (x instanceof RawNumber ? Number(x.text) : x));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function fromText(fixed: NdjsonTypes, file: string): string {
  return `fixed by the first batch${fixed.file === file ? '' : ` of ${fixed.file}`} (${fixed.lines})`;
}

export function misfitError(m: Misfit, file: string, fixed: NdjsonTypes): SourceError {
  const at = m.path === m.column ? '' : ` at ${m.path}`;
  return new SourceError(
    `value ${shown(m.value)}${at} ${m.why}; the column's type ${typeName(m.type)} was ${fromText(fixed, file)}. NDJSON takes each column's type from the first batch: ` +
      'write the column as one JSON type in every line, or raise source.batchRows so that the first batch holds such a value',
    { file, line: m.line, column: m.column },
  );
}

/**
 * polars could not parse a batch of valid JSON lines: the first value no type holds (an integer
 * beyond int64, a lone surrogate), or the first that does not fit its column's type so far
 * (`true` after numbers), or the fixed types; undefined if none of those is found.
 */
export function locateUnreadable(lines: Lines, file: string, fixed: NdjsonTypes | undefined): SourceError | undefined {
  const loose = firstLoose(lines);
  if (loose) return loose(file);
  for (const { line, value } of records(lines)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RawNumber) continue;
    for (const key of Object.keys(value)) {
      const v = value[key];
      const fixedType = fixed?.types[key];
      const m = fixedType ? misfit(fixedType, v, key) : undefined;
      if (m) return misfitError({ line, column: key, type: fixedType!, ...m }, file, fixed!);
    }
  }
  return firstConflict(lines)?.(file);
}

/** The first value in `only` columns (default: all) that no type holds: an integer beyond int64, a lone surrogate. */
export function firstLoose(lines: Lines, only?: Set<string>): ((file: string) => SourceError) | undefined {
  for (const { line, value } of records(lines)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RawNumber) continue;
    for (const key of Object.keys(value)) {
      if (only && !only.has(key)) continue;
      const loose = looseValue(value[key], key);
      if (loose) return (file) => new SourceError(`value ${shown(loose.value)}${loose.path === key ? '' : ` at ${loose.path}`} ${loose.why}`, { file, line, column: key });
    }
  }
  return undefined;
}

/** What a column's values were so far, at each depth: the first value of each kind, with its line. */
interface Kinds {
  kind: string;
  line: number;
  value: RawValue;
  fields?: Map<string, Kinds>;
  items?: Kinds;
}

/** The first value whose JSON kind differs from earlier values at its place (numbers are one kind); as a function of the file. */
export function firstConflict(lines: Lines, only?: Set<string>): ((file: string) => SourceError) | undefined {
  const columns = new Map<string, Kinds>();
  for (const { line, value } of records(lines)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RawNumber) continue;
    for (const key of Object.keys(value)) {
      if (only && !only.has(key)) continue;
      const c = merge(columns.get(key), value[key], line, key);
      if ('conflict' in c) {
        const { path, against, v } = c.conflict;
        return (file) =>
          new SourceError(
            `value ${shown(v)}${path === key ? '' : ` at ${path}`} is ${kind(v)}, where line ${against.line} has ${kind(against.value)} (${shown(against.value)}): ` +
              'an NDJSON column holds one JSON type at each place (integers and floats may mix), and polars would convert one of them; write it one way',
            { file, line, column: key },
          );
      }
      if (c.kinds) columns.set(key, c.kinds);
    }
  }
  return undefined;
}

function merge(k: Kinds | undefined, v: RawValue, line: number, path: string): { kinds?: Kinds } | { conflict: { path: string; against: Kinds; v: RawValue } } {
  if (v === null) return { kinds: k };
  const here: Kinds = k ?? { kind: kind(v), line, value: v };
  if (here.kind !== kind(v)) return { conflict: { path, against: here, v } };
  if (Array.isArray(v)) {
    for (const item of v) {
      const m = merge(here.items, item, line, `${path}[]`);
      if ('conflict' in m) return m;
      here.items = m.kinds;
    }
  } else if (v !== null && typeof v === 'object' && !(v instanceof RawNumber)) {
    here.fields ??= new Map();
    for (const key of Object.keys(v)) {
      const m = merge(here.fields.get(key), v[key], line, `${path}.${key}`);
      if ('conflict' in m) return m;
      if (m.kinds) here.fields.set(key, m.kinds);
    }
  }
  return { kinds: here };
}
