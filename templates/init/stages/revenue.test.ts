import assert from 'node:assert/strict';
import { test } from 'node:test';
import pl from 'nodejs-polars';
import { shippedRevenue } from './revenue';

test('keeps shipped orders and adds their revenue', () => {
  const orders = pl.DataFrame({
    order_id: [1, 2, 3],
    status: ['shipped', 'cancelled', 'shipped'],
    quantity: [2, 1, 3],
    unit_price: [1.5, 9, 2],
  });
  const out = shippedRevenue(orders);
  assert.deepEqual(out.getColumn('order_id').toArray(), [1, 3]);
  assert.deepEqual(out.getColumn('revenue').toArray(), [3, 6]);
});
