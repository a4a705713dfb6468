import type { RecordBatch } from 'apache-arrow';
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

// Build polars expressions once, not per batch: creating each one costs ~0.5 ms.
const shipped = pl.col('status').eq(pl.lit('shipped'));
const revenue = pl.col('quantity').mul(pl.col('unit_price')).alias('revenue');

/** Shipped orders, with their revenue. Plain polars, so the stage test calls it directly. */
export function shippedRevenue(orders: pl.DataFrame): pl.DataFrame {
  return orders.filter(shipped).withColumns(revenue);
}

export default defineStage({
  // batch: an apache-arrow RecordBatch; return a RecordBatch, a Table or a polars DataFrame.
  process(batch: RecordBatch, ctx) {
    return shippedRevenue(ctx.toDataFrame(batch));
  },
});
