/**
 * `startStage`/`runStage` with `key` (sluice/testing): a keyed stage tested with copies gets
 * its rows routed by key as in a run, so a per-key aggregate with flush gives each key once,
 * with its full count; a malformed key is refused by the harness.
 */
import path from 'node:path';
import { batchFromRows, runStage, startStage } from 'sluice/testing';

const STAGE = path.join(__dirname, '../../fixtures/stages/keyed-sum.ts');
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 16 }, (_, i) => ({ k: KEYS[(i * 5 + b * 3) % KEYS.length], v: 1 })));

it.each(['inline', 'thread'] as const)('%s × 3 with key: each key once, with every row of it, on one copy', async (mode) => {
  const { flushed, rows } = await runStage(STAGE, batches.map((rows) => batchFromRows(rows)), { mode, copies: 3, key: ['k'], options: { key: ['k'], value: 'v' } });
  expect(flushed.length).toBeGreaterThan(0);
  const out = rows() as { k: string; n: number; copy: number }[];
  expect(out.map((r) => r.k).sort()).toEqual(KEYS);
  for (const r of out) expect(r.n).toBe(batches.flat().filter((x) => x.k === r.k).length);
  expect(new Set(out.map((r) => r.copy)).size).toBeGreaterThan(1);
}, 60_000);

it('refuses a key that is not a list of distinct column names', async () => {
  await expect(startStage(STAGE, { key: [] })).rejects.toThrow('startStage: key must be a list of distinct column names, at least one (got [])');
  await expect(startStage(STAGE, { key: ['k', 'k'] })).rejects.toThrow('got ["k","k"]');
});
