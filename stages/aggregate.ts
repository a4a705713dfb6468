/**
 * Aggregate per day, country and currency (process: a stateful stage in its own child
 * process). Keeps running totals; emits the result table once, in flush.
 * Run it with concurrency 1: with more copies each copy would hold a partial result.
 */
import { DateDay, Table, makeVector, type RecordBatch } from 'apache-arrow';
import { defineStage } from 'sluice';

interface Totals {
  transactions: number;
  settledAmount: number;
  refunds: number;
  customers: Set<string>;
}

const groups = new Map<string, Totals>();
const MS_PER_DAY = 86_400_000;

/** Day numbers (days since 1970-01-01) of a Date32 column, read from its buffer. */
function days(batch: RecordBatch, name: string): Int32Array {
  const vector = batch.getChild(name)!;
  if (!(vector.type instanceof DateDay) && String(vector.type) !== 'Date32<DAY>') throw new Error(`column ${name} must be a date, got ${vector.type}`);
  return vector.data[0].values as Int32Array;
}

export default defineStage({
  process(batch, ctx) {
    const day = days(batch, 'day');
    const amount = batch.getChild('amount')!.data[0].values as Float64Array;
    const country = ctx.strings(batch, 'country');
    const currency = ctx.strings(batch, 'currency');
    const status = ctx.strings(batch, 'status');
    const customer = ctx.strings(batch, 'customer_id');
    for (let i = 0; i < batch.numRows; i++) {
      const key = `${day[i]}|${country[i]}|${currency[i]}`;
      let t = groups.get(key);
      if (!t) groups.set(key, (t = { transactions: 0, settledAmount: 0, refunds: 0, customers: new Set() }));
      t.transactions++;
      if (status[i] === 'settled') t.settledAmount += amount[i];
      else if (status[i] === 'refunded') t.refunds++;
      if (customer[i] !== null) t.customers.add(customer[i]!);
    }
    // Nothing to emit per batch: the totals are complete only at the end.
  },
  flush(ctx) {
    const rows = [...groups.entries()].map(([k, t]) => [k.split('|'), t] as const);
    rows.sort(([a], [b]) => Number(a[0]) - Number(b[0]) || a[1].localeCompare(b[1]) || a[2].localeCompare(b[2]));
    ctx.log.info({ groups: rows.length }, 'aggregated');
    return new Table({
      day: ctx.utf8(rows.map(([[d]]) => new Date(Number(d) * MS_PER_DAY).toISOString().slice(0, 10))),
      country: ctx.utf8(rows.map(([[, c]]) => c)),
      currency: ctx.utf8(rows.map(([[, , cur]]) => cur)),
      transactions: makeVector(Int32Array.from(rows.map(([, t]) => t.transactions))),
      settled_amount: makeVector(Float64Array.from(rows.map(([, t]) => Math.round(t.settledAmount * 100) / 100))),
      refunds: makeVector(Int32Array.from(rows.map(([, t]) => t.refunds))),
      customers: makeVector(Int32Array.from(rows.map(([, t]) => t.customers.size))),
    });
  },
});
