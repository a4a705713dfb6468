/**
 * A row's values as JSON text that changes none of them: what the dead-letter output's `values`
 * column holds (runtime/rejects.ts), made on the main thread or in a stage's copy
 * (worker/reject-rows.ts) alike.
 *
 * A row of a batch is written by the NDJSON sink's formatter for each column's type
 * (batch/text-values.ts: decimals from their unscaled integer and scale, timestamps at their
 * unit's precision, binary as base64, …), never through `Vector.get`/`toJSON`, which give a
 * decimal's raw words and a timestamp's milliseconds. One difference, kept on purpose: a 64-bit
 * integer a double cannot hold is a string of its digits (a JSON.parse reader would round a
 * bare number), here and in `rowJson` alike.
 */
import type { RecordBatch } from 'apache-arrow';
import { SinkError } from '../errors';
import { floatText } from './text-forms';
import { jsonFormatter } from './text-values';

/**
 * `(i) => row i of the batch as JSON text`; the formatters are made once per batch. A value
 * with no JSON form (bytes that are not UTF-8 in a string, a map holding a key twice) fails
 * loudly, naming the column, rather than being written changed.
 */
export function rowJsonOf(batch: RecordBatch): (index: number) => string {
  const fields = batch.schema.fields;
  const keys = fields.map((f) => JSON.stringify(f.name));
  const say = (c: number, err: unknown) => new SinkError(`cannot write the values of a rejected row to the dead-letter output: column "${fields[c].name}" (${String(fields[c].type)})`, err);
  const cells = fields.map((_f, c) => {
    try {
      return jsonFormatter(batch.getChildAt(c)!, true);
    } catch (err) {
      throw say(c, err);
    }
  });
  return (index) => {
    let c = 0;
    try {
      let out = '{';
      for (; c < cells.length; c++) out += `${c ? ',' : ''}${keys[c]}:${cells[c](index) ?? 'null'}`;
      return out + '}';
    } catch (err) {
      throw say(c, err);
    }
  };
}

/**
 * Values already JavaScript (a source's salvage: the fields of a refused row that parsed) as
 * JSON text, numbers as the NDJSON sink writes them: a 64-bit integer is a number when a double
 * holds it exactly, else its digits as a string; `-0` keeps its sign (`-0.0`); NaN and the
 * infinities, which JSON has no number for, are the strings `"NaN"`, `"inf"`, `"-inf"`
 * (JSON.stringify would write `0` and `null`: a value changed without a word).
 */
export function rowJson(values: Record<string, unknown>): string {
  return json(values) ?? '{}';
}

function json(v: unknown): string | undefined {
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? String(v) : `"${v}"`;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? String(v) : JSON.stringify(floatText(v, false)).replace(/^"(-0\.0)"$/, '$1');
  if (Array.isArray(v)) return `[${v.map((x) => json(x) ?? 'null').join(',')}]`;
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v)) {
      const t = json(x);
      if (t !== undefined) parts.push(`${JSON.stringify(k)}:${t}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v);
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
