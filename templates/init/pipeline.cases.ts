import { defineCases } from 'sluice/testing';

// `sluice test` (part of `npm test`) runs each case through the stage as a run would, in its
// configured mode, and compares the output with `expected`. A case without `stage` runs the
// whole pipeline's stages in order. Integers compare with the Int64 values a CSV source gives.
export default defineCases([
  {
    name: 'revenue keeps shipped orders and adds quantity × unit_price',
    stage: 'revenue',
    input: [
      { order_id: 1, status: 'shipped', quantity: 2, unit_price: 1.5 },
      { order_id: 2, status: 'cancelled', quantity: 1, unit_price: 9 },
      { order_id: 3, status: 'shipped', quantity: 3, unit_price: 2 },
    ],
    expected: [
      { order_id: 1, status: 'shipped', quantity: 2, unit_price: 1.5, revenue: 3 },
      { order_id: 3, status: 'shipped', quantity: 3, unit_price: 2, revenue: 6 },
    ],
  },
]);
