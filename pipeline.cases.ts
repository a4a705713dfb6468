/**
 * Fixture cases for pipeline.config.ts: `sluice test` (or `bin/sluice test pipeline.config.ts`)
 * runs each stage named here on the input rows, or the whole pipeline when no stage is named,
 * and compares what comes out with `expected`.
 */
import { defineCases } from 'sluice/testing';

const row = (txn_id: number, ts: string, customer_id: string, country: string, amount: number, status: string) => ({
  txn_id,
  ts,
  customer_id,
  email: `c${customer_id}@example.com`,
  merchant: 'Blue Bottle',
  country,
  amount,
  currency: 'EUR',
  status,
});

export default defineCases([
  {
    name: 'clean drops test transactions, normalises countries, derives the day',
    stage: 'clean',
    input: [row(1, '2026-11-23 10:45:32', '00000601', ' se', 10.5, 'settled'), row(2, '2026-11-23 11:00:00', '00000777', 'DE', 1, 'test')],
    expected: [
      {
        txn_id: 1, ts: '2026-11-23 10:45:32', customer_id: '00000601', email: 'c00000601@example.com', merchant: 'Blue Bottle',
        country: 'SE', amount: 10.5, currency: 'EUR', status: 'settled', day: '2026-11-23',
      },
    ],
  },
  {
    name: 'pseudonymise replaces customer ids by keyed pseudonyms and drops e-mails',
    stage: 'pseudonymise',
    input: [{ customer_id: '00000601', email: 'a@example.com', amount: 3 }],
    expected: [{ customer_id: '03baa148810856c5e09f76a33648779236517646cba4454acafed58be6c684e8', amount: 3 }],
  },
  {
    name: 'the whole pipeline: daily totals per country and currency',
    input: [
      row(1, '2026-11-23 10:45:32', '00000601', 'se', 10.5, 'settled'),
      row(2, '2026-11-23 12:00:00', '00000601', 'SE', 4.5, 'settled'),
      row(3, '2026-11-23 13:00:00', '00000777', 'SE', 2, 'refunded'),
      row(4, '2026-11-24 09:00:00', '00000777', 'DE', 7.25, 'settled'),
      row(5, '2026-11-24 09:30:00', '00000777', 'DE', 99, 'test'),
    ],
    batchRows: 2,
    expected: [
      { day: '2026-11-23', country: 'SE', currency: 'EUR', transactions: 3, settled_amount: 15, refunds: 1, customers: 2 },
      { day: '2026-11-24', country: 'DE', currency: 'EUR', transactions: 1, settled_amount: 7.25, refunds: 0, customers: 1 },
    ],
  },
]);
