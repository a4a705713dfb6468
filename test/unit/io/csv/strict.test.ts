/**
 * csv/strict.ts: the byte scan's quick look and the exact rules of csv/infer.ts say the same
 * of every value (the quick look only settles what surely holds), and a violation names the
 * file, the physical line and the column.
 */
import { checkChunkText, outOfFloatRange, textCheck, type TextRule } from '../../../../src/csv/strict';
import { datetimeShape, isStrictValue, type CsvType } from '../../../../src/csv/infer';
import { SourceError } from '../../../../src/errors';

const HEADER = 'c0,c1\n';

/** Runs the check on one chunk whose rows are `x,<value>`; returns the error, if any. */
function check(rule: TextRule, values: string[], opts: { skippedLines?: number[]; nullValues?: string[] } = {}): SourceError | undefined {
  const text = Buffer.from(HEADER + values.map((v) => `x,${v}`).join('\n') + '\n');
  const tc = textCheck(['a', 'b'], ['a', 'b'], { b: rule }, 'the first 3 rows of w.csv (lines 2–4)', opts.nullValues)!;
  try {
    checkChunkText({ text, prefixLength: HEADER.length, firstLine: 10, skippedLines: opts.skippedLines }, tc, 'f.csv', ',', '"');
    return undefined;
  } catch (err) {
    if (err instanceof SourceError) return err;
    throw err;
  }
}

const inferred = (type: CsvType, sample?: string, extra: Partial<TextRule> = {}): TextRule => ({
  type,
  origin: 'inferred',
  ...(sample !== undefined && { shape: datetimeShape(sample) }),
  ...extra,
});

/** Values of every kind, tried against every rule: the quick look must never accept what the exact rules refuse. */
const VALUES = [
  '0', '-0', '7', '-7', '01', '+1', ' 1', '1 ', '123456789012345678', '1234567890123456789', '9223372036854775807', '9223372036854775808', '-9223372036854775809',
  '1.5', '-1.5', '1.', '.5', '01.5', '1e3', '1E-3', '1e500', '1e-400', '0.1', '0.30000000000000004', '0.1000000000000000055511151231257827', '123456789012345.6', '9007199254740993',
  'NaN', 'inf', '-inf', 'nan', 'Infinity', 'true', 'false', 'TRUE', 'yes',
  '2026-01-01', '2026-1-01', '2026-02-30', '+10000-01-01', '2026-01-01 10:00:00', '2026-01-01T10:00:00', '2026-01-01T10:00:00.123', '2026-01-01T10:00:00.123456',
  '2026-01-01T10:00:00.123456789', '2300-01-01T10:00:00.123456789', '1677-01-01T10:00:00.123456789', '2026-01-01T10:00:00.123Z', '2026-01-01T10:00:00.123+02:00', '2026-01-01T10:00:00.123+0200',
  '2026-01-01T25:00:00.123', '10:00:00', '10:00:00.5', '24:00:00', 'abc', '"1"', '"01"', '""',
];

const RULES: [string, TextRule][] = [
  ['int64', inferred('int64')],
  ['float64', inferred('float64')],
  ['float64 with NaN in the sample', inferred('float64', undefined, { nonFinite: true })],
  ['date', inferred('date', '2026-01-01')],
  ['datetime (space)', inferred('datetime', '2026-01-01 10:00:00')],
  ['datetime ms', inferred('datetime', '2026-01-01T10:00:00.123')],
  ['datetime us', inferred('datetime[us]', '2026-01-01T10:00:00.123456')],
  ['datetime ns', inferred('datetime[ns]', '2026-01-01T10:00:00.123456789')],
  ['datetime ms UTC', inferred('datetime[ms, UTC]', '2026-01-01T10:00:00.123Z')],
  ['time', inferred('time', '10:00:00')],
];

/** The exact rule, written from csv/infer.ts's predicates (what the slow path must apply). */
function exactlyAccepted(rule: TextRule, value: string): boolean {
  const v = /^".*"$/.test(value) ? value.slice(1, -1) : value;
  if (v === '') return true; // null
  if (!isStrictValue(rule.type, v, rule.shape)) return false;
  return !(rule.type === 'float64' && !rule.nonFinite && /^(NaN|-?inf)$/.test(v));
}

/**
 * Impossible calendar values in the column's own shape: polars refuses them before the scan
 * runs (csv/parse.ts), so the quick look need not; test/e2e/csv-later-values.test.ts's
 * "beyond range" cells check that they fail the run.
 */
const POLARS_REFUSES = new Set(['2026-02-30', '2026-01-01T25:00:00.123', '24:00:00']);

describe.each(RULES)('an inferred %s column', (_, rule) => {
  it.each(VALUES)('%j: the scan says what the exact rules say', (value) => {
    const err = check(rule, [value]);
    if (POLARS_REFUSES.has(value) && err === undefined) return;
    expect(err === undefined).toBe(exactlyAccepted(rule, value));
  });
});

it('names the physical line (blank lines removed before the scan count) and the column, and says what to do', () => {
  const err = check(inferred('int64'), ['1', '2', '007'], { skippedLines: [11] });
  expect(err?.message).toBe(
    'f.csv, line 13, column "b": value "007" has a leading zero, which an inferred number would drop; its type int64 was inferred from the first 3 rows of w.csv (lines 2–4). Declare the column in source.schema (utf8 keeps every value as written)',
  );
});

it('counts lines inside quoted fields of earlier columns', () => {
  const text = Buffer.from(HEADER + '"multi\nline",1\nx,+2\n');
  const tc = textCheck(['a', 'b'], ['a', 'b'], { b: inferred('int64') }, 'w')!;
  expect(() => checkChunkText({ text, prefixLength: HEADER.length, firstLine: 2 }, tc, 'f.csv', ',', '"')).toThrow('f.csv, line 4, column "b": value "+2" has a plus sign');
});

it('null markers pass in a typed column', () => {
  expect(check(inferred('int64'), ['1', 'NA', '3'], { nullValues: ['NA'] })).toBeUndefined();
  expect(check(inferred('int64'), ['1', 'NA', '3'])).toBeInstanceOf(SourceError);
});

it('a CRLF row end is not part of the value', () => {
  const text = Buffer.from(HEADER + 'x,1\r\nx,22\r\n');
  const tc = textCheck(['a', 'b'], ['a', 'b'], { b: inferred('int64') }, 'w')!;
  expect(() => checkChunkText({ text, prefixLength: HEADER.length, firstLine: 2 }, tc, 'f.csv', ',', '"')).not.toThrow();
});

describe('a declared column', () => {
  const declared = (type: CsvType): TextRule => ({ type, origin: 'declared' });

  it('float: polars text forms pass (a sign, a leading zero, an exponent), a finite value read as inf or 0 does not', () => {
    for (const ok of ['+1.5', '01.5', '1e3', '1e-300', 'NaN', 'inf', '0', '0.0', '-0e5']) expect(check(declared('float64'), [ok])).toBeUndefined();
    expect(check(declared('float64'), ['1e500'])?.message).toContain('value "1e500" is beyond what float64 holds (it would be read as inf)');
    expect(check(declared('float64'), ['1e-400'])?.message).toContain('(it would be read as 0)');
    expect(check(declared('float32'), ['1e39'])?.message).toContain('beyond what float32 holds');
    expect(check(declared('float32'), ['1e-50'])?.message).toContain('(it would be read as 0)');
    expect(check(declared('float32'), ['3.4e38'])).toBeUndefined();
  });

  it('outOfFloatRange: the edges of both float types', () => {
    expect(outOfFloatRange('float64', '1.7976931348623157e308')).toBe(false);
    expect(outOfFloatRange('float64', '1.8e308')).toBe(true);
    expect(outOfFloatRange('float64', '5e-324')).toBe(false);
    expect(outOfFloatRange('float64', '2e-324')).toBe(true);
    expect(outOfFloatRange('float64', '0e-999')).toBe(false);
    expect(outOfFloatRange('float32', '1.4e-45')).toBe(false);
    expect(outOfFloatRange('float32', '3.5e38')).toBe(true);
  });

  it('timestamp: written one way within a chunk', () => {
    expect(check(declared('timestamp'), ['2026-01-01 10:00:00', '2026-01-02 10:00:00'])).toBeUndefined();
    expect(check(declared('timestamp'), ['2026-01-01 10:00:00', '2026-01-02T10:00:00'])?.message).toContain('is written another way');
  });

  it('int and text: not checked beyond what polars refuses', () => {
    expect(textCheck(['a'], ['a'], { a: declared('int64') }, 'w')).toBeUndefined();
    expect(textCheck(['a'], ['a'], { a: declared('utf8') }, 'w')).toBeUndefined();
  });
});
