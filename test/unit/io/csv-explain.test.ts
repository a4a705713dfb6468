/**
 * Why inference chose a type (csv/infer.ts explainColumn, the one implementation the CSV
 * reader runs): the deciding value by its index in the sample, in words by io/inspect/csv-reasons.
 */
import { explainColumn, inferColumn } from '../../../src/csv/infer';
import { csvReason } from '../../../src/io/inspect/csv-reasons';

/** The reason as inspect prints it, with sample index i at line i + 2 (a header, no multi-line rows). */
function reason(values: (string | null)[], overridden?: 'int32'): string {
  const inferred = explainColumn(values);
  const line = (i?: number) => (i === undefined ? undefined : i + 2);
  return csvReason({ name: 'c', type: overridden ?? inferred.type, inferred, overridden: Boolean(overridden), line: line(inferred.decided?.index), againstLine: line(inferred.decided?.against?.index) }, values.length);
}

describe('explainColumn', () => {
  it.each([
    [['1', null, '2', '3'], 'int64', 'all 3 sampled values are integers (1 empty or null)'],
    [['1', '2', '2.5', '3'], 'float64', 'all 4 sampled values are numbers; value "2.5" at line 4 is the first that is not an integer'],
    [['1', '2', '3', '4', '5', 'x1', '7'], 'utf8', 'value "x1" at line 7 is not an integer like "1" at line 2'],
    [['2026-11-01', '5'], 'utf8', 'value "5" at line 3 is not a date like "2026-11-01" at line 2'],
    [['true', 'maybe'], 'utf8', 'value "maybe" at line 3 is not true or false like "true" at line 2'],
    [['maybe', 'true'], 'utf8', 'value "maybe" at line 2 is text (not a number, boolean, date or time)'],
    [['1', '08123'], 'utf8', 'value "08123" at line 3 has a leading zero (kept as text, so it stays as written)'],
    [['1', '99999999999999999999'], 'utf8', 'value "99999999999999999999" at line 3 is an integer beyond int64 (kept as text, every digit)'],
    [['0.1', '3.14159265358979323846'], 'utf8', 'value "3.14159265358979323846" at line 3 has more digits than a float64 holds (kept as text, every digit)'],
    [['2026-11-24T10:11:12', '2026-11-24 10:11:12'], 'utf8', 'value "2026-11-24 10:11:12" at line 3 is written another way than "2026-11-24T10:11:12" at line 2 (every datetime of a column must have one form)'],
    [['9007199254740993', '1.5'], 'utf8', 'value "1.5" at line 3 mixes integers beyond 2^53 with decimals (float64 would lose digits)'],
    [[null, null], 'utf8', 'no value in the 2 sampled rows (all empty or null): read as text'],
    [['2026-11-24', '2026-11-25'], 'date', 'all 2 sampled values are dates (YYYY-MM-DD)'],
  ])('%p → %s: %s', (values, type, why) => {
    expect(explainColumn(values).type).toBe(type);
    expect(inferColumn(values)).toBe(type);
    expect(reason(values)).toBe(why);
  });

  it('names a type set by source.schema, with what inference would have said', () => {
    expect(reason(['1', 'x'], 'int32')).toBe('set by source.schema (inferred: utf8, value "x" at line 3 is not an integer like "1" at line 2)');
  });

  it('counts every value looked at and stops at the value that makes the column text', () => {
    expect(explainColumn(['1', '2', 'x', '4'])).toEqual({ type: 'utf8', values: 3, nulls: 0, decided: { index: 2, value: 'x', why: 'mixed', against: { index: 0, value: '1' }, expected: 'int64' } });
  });
});
