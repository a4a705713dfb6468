/**
 * Why a CSV column got its type, in words, from the inference record the reader made
 * (csv/infer.ts `explainColumn`, run by the reader itself): `int64: all 20,000 sampled
 * values are integers`, `utf8: value "x1" at line 7 is not an integer (like "1" at line 2)`.
 */
import type { CsvInference } from '../sources/csv';
import type { CsvType } from '../../csv/infer';

type Column = CsvInference['columns'][number];

const NOUNS: Partial<Record<CsvType, string>> = {
  int64: 'integers',
  float64: 'numbers',
  bool: 'true/false',
  date: 'dates (YYYY-MM-DD)',
  datetime: 'datetimes (to the millisecond, no zone)',
  'datetime[us]': 'datetimes (microseconds, no zone)',
  'datetime[ns]': 'datetimes (nanoseconds, no zone)',
  'datetime[ms, UTC]': 'datetimes with a zone (milliseconds, read as UTC)',
  'datetime[us, UTC]': 'datetimes with a zone (microseconds, read as UTC)',
  'datetime[ns, UTC]': 'datetimes with a zone (nanoseconds, read as UTC)',
  time: 'times of day',
};

const ONE: Partial<Record<CsvType, string>> = { int64: 'an integer', float64: 'a number', bool: 'true or false', date: 'a date', time: 'a time of day' };

const count = (n: number) => n.toLocaleString('en-US');
const quoted = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
const nulls = (n: number) => (n ? ` (${count(n)} empty or null)` : '');

export function csvReason(c: Column, sampled: number): string {
  if (c.overridden) return `set by source.schema (inferred: ${c.inferred.type}, ${inferredReason(c, sampled)})`;
  return inferredReason(c, sampled);
}

function inferredReason(c: Column, sampled: number): string {
  const { inferred } = c;
  const at = inferred.decided;
  const where = at ? `value ${quoted(at.value)} at line ${c.line}` : '';
  const first = at?.against ? `${quoted(at.against.value)} at line ${c.againstLine}` : '';
  if (!at) {
    if (inferred.values === 0) return `no value in the ${count(sampled)} sampled rows (all empty or null): read as text`;
    const noun = NOUNS[inferred.type];
    if (inferred.type === 'utf8') return `integers beyond 2^53 mixed with decimals: text keeps every digit`;
    return `all ${count(inferred.values)} sampled values are ${noun ?? inferred.type}${nulls(inferred.nulls)}`;
  }
  // A leading zero is the usual surprise (zip codes, ids): say so whatever came before it.
  if ((at.why === 'text' || at.why === 'mixed') && /^[-+]?0\d/.test(at.value)) return `${where} has a leading zero (kept as text, so it stays as written)`;
  switch (at.why) {
    case 'widened':
      return `all ${count(inferred.values)} sampled values are numbers; ${where} is the first that is not an integer${nulls(inferred.nulls)}`;
    case 'text':
      return `${where} is text (not a number, boolean, date or time)`;
    case 'too-big':
      return `${where} is an integer beyond int64 (kept as text, every digit)`;
    case 'inexact':
      return `${where} has more digits than a float64 holds (kept as text, every digit)`;
    case 'mixed': {
      const expected = at.expected ?? 'utf8';
      return `${where} is not ${ONE[expected] ?? `a ${expected} value`} like ${first}`;
    }
    case 'shape':
      return `${where} is written another way than ${first} (every datetime of a column must have one form)`;
    case 'unsafe-mix':
      return `${where} mixes integers beyond 2^53 with decimals (float64 would lose digits)`;
  }
}
