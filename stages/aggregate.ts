/**
 * Aggregate per day, country and currency (process: a stateful stage in its own child
 * process). Keeps running totals; emits the result table once, in flush.
 * Run it with concurrency 1: with more copies each copy would hold a partial result.
 */
import { tableFromArrays } from 'apache-arrow';
import { defineStage } from 'sluice';

interface Totals {
  transactions: number;
  settledAmount: number;
  refunds: number;
  customers: Set<string>;
}

const groups = new Map<string, Totals>();

export default defineStage({
  process(batch, ctx) {
    const day = batch.getChild('day')!;
    const country = ctx.strings(batch, 'country');
    const currency = ctx.strings(batch, 'currency');
    const status = ctx.strings(batch, 'status');
    const customer = ctx.strings(batch, 'customer_id');
    const amount = batch.getChild('amount')!;
    for (let i = 0; i < batch.numRows; i++) {
      const d = day.get(i) as Date | number | null;
      const key = `${d === null ? '' : new Date(d).toISOString().slice(0, 10)}|${country[i]}|${currency[i]}`;
      let t = groups.get(key);
      if (!t) groups.set(key, (t = { transactions: 0, settledAmount: 0, refunds: 0, customers: new Set() }));
      t.transactions++;
      if (status[i] === 'settled') t.settledAmount += Number(amount.get(i) ?? 0);
      if (status[i] === 'refunded') t.refunds++;
      if (customer[i] !== null) t.customers.add(customer[i]!);
    }
    // Nothing to emit per batch: the totals are complete only at the end.
  },
  flush(ctx) {
    const keys = [...groups.keys()].sort();
    ctx.log.info({ groups: keys.length }, 'aggregated');
    const rows = keys.map((k) => [k.split('|'), groups.get(k)!] as const);
    return tableFromArrays({
      day: rows.map(([[d]]) => d),
      country: rows.map(([[, c]]) => c),
      currency: rows.map(([[, , cur]]) => cur),
      transactions: Int32Array.from(rows.map(([, t]) => t.transactions)),
      settled_amount: Float64Array.from(rows.map(([, t]) => Math.round(t.settledAmount * 100) / 100)),
      refunds: Int32Array.from(rows.map(([, t]) => t.refunds)),
      customers: Int32Array.from(rows.map(([, t]) => t.customers.size)),
    });
  },
});
