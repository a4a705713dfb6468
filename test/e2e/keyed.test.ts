/**
 * Keyed routing end to end (`key` on a stage, executors/keyed.ts): a per-key sum with flush (no
 * combine) at concurrency 1, 2 and 4, in thread and process mode (and inline at 2), gives the
 * answer of one copy (the cells: pairwise over mode × copies × key, see CELLS); every key is held by exactly
 * one copy (the stage writes which copy held each key: a key on two copies would come out twice);
 * the sink is CSV (no encoder threads to start: the file runs in seconds), read by DuckDB;
 * the flushed rows come copy after copy. Keys: two string columns (nulls among them), and an int
 * column with nulls. A key column missing at run time fails the run naming stage, batch and column.
 *
 * Where the cut is made (plan/key-split.ts): a producer off the main thread (a thread stage's
 * copy, the source thread, a process child) cuts its output for the keyed stage; the run report
 * says which items were cut where, by which thread ids / pids, and the bytes the cut copied.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { threadId } from 'node:worker_threads';
import path from 'node:path';
import pino from 'pino';
import { checkPipeline } from '../../src/check';
import { buildPlan } from '../../src/plan/build';
import { runPlan } from '../../src/runtime/run';
import { duckRows } from '../helpers/duckdb';
import { pairwise } from '../helpers/pairwise';

const STAGE = path.resolve(__dirname, '../fixtures/stages/keyed-sum.ts');
const IDENTITY = path.resolve(__dirname, '../fixtures/stages/identity.ts');
const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-keyed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

const ROWS = 3000;
const DAYS = Array.from({ length: 12 }, (_, d) => `2026-11-${String(d + 1).padStart(2, '0')}`);
const COUNTRIES = ['DE', 'FR', '', 'ÜS', 'NL']; // '' is null in CSV
// Keys drawn at random (a fixed seed), so no key follows the row number: routing by row
// (round-robin) would put a key on several copies.
let seed = 42;
const random = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const data = Array.from({ length: ROWS }, (_, i) => ({
  day: DAYS[random(DAYS.length)],
  country: COUNTRIES[random(COUNTRIES.length)],
  shop: random(11) === 0 ? '' : String(random(17)),
  amount: (i % 50) + 0.25,
}));
writeFileSync(path.join(root, 'in.csv'), 'day,country,shop,amount\n' + data.map((r) => `${r.day},${r.country},${r.shop},${r.amount}`).join('\n') + '\n');

/** The one-copy answer, computed here: per key, rows and the sum of amount. */
function expected(key: ('day' | 'country' | 'shop')[]): string[] {
  const groups = new Map<string, { n: number; total: number }>();
  for (const r of data) {
    const id = key.map((k) => (r[k] === '' ? 'null' : r[k])).join('|');
    const g = groups.get(id) ?? groups.set(id, { n: 0, total: 0 }).get(id)!;
    g.n++;
    g.total += r.amount;
  }
  return [...groups.entries()].map(([id, g]) => `${id}|${g.n}|${g.total}`).sort();
}

let n = 0;
async function run(mode: 'inline' | 'thread' | 'process', concurrency: number, key: string[], stages?: Record<string, unknown>[], source: Record<string, unknown> = {}) {
  const dir = path.join(root, `case-${n++}`);
  mkdirSync(dir);
  const out = path.join(dir, 'out.csv');
  const raw = {
    name: 'keyed',
    source: { format: 'csv', path: path.join(root, 'in.csv'), batchRows: 128, schema: { shop: 'int64', day: 'utf8' }, ...source },
    stages: stages ?? [{ name: 'agg', module: STAGE, mode, concurrency, key, options: { key, value: 'amount' } }],
    sink: { format: 'csv', path: out },
  };
  const checked = await checkPipeline(raw, { file: '', baseDir: dir });
  const report = await runPlan(buildPlan(checked.config, { file: '', baseDir: dir, params: checked.params }), { log });
  return { report, out };
}

async function readBack(out: string, key: string[]) {
  // File order (no ORDER BY): the order the stage's copies flushed in.
  const rows = await duckRows(`SELECT ${key.map((k) => `CAST(${k} AS VARCHAR) AS ${k}`).join(', ')}, n, total, copy, copies FROM read_csv('${out}', header = true, nullstr = '')`);
  const answer = rows.map((r) => `${key.map((k) => r[k] ?? 'null').join('|')}|${r.n}|${r.total}`).sort();
  return { rows, answer };
}

type Mode = 'inline' | 'thread' | 'process';
const KEYS = { strings: ['day', 'country'], int: ['shop'] } as const;
const KEY_LABEL = { strings: 'day, country (strings, nulls)', int: 'shop (int64, nulls)' } as const;

/**
 * Pairwise over mode × copies × key (test/helpers/pairwise.ts): every mode with every copy
 * count it allows (thread and process at 1, 2 and 4, inline at 2), and each of those and each
 * key together at least once, plus the two int-key cells this file always ran (thread × 2,
 * process × 4). 8 runs where the former string-key column of every cell and the two int-key
 * cells were 9, with 4 child processes and 2 threads fewer: a key's hash path does not depend
 * on the mode, nor the routing on the key's type.
 */
const KEPT = [
  { mode: 'thread', copies: 2, key: 'int' },
  { mode: 'process', copies: 4, key: 'int' },
] as const;
const CELLS = [
  ...KEPT,
  ...pairwise(
    { mode: ['thread', 'process', 'inline'] as Mode[], copies: [1, 2, 4], key: ['strings', 'int'] as (keyof typeof KEYS)[] },
    (c) => c.mode !== 'inline' || c.copies === undefined || c.copies === 2,
    KEPT as unknown as { mode: Mode; copies: number; key: keyof typeof KEYS }[],
  ),
];

it('the cells hold every mode × copies the modes allow, and every key with every mode and every copy count', () => {
  const pairs = (a: (c: (typeof CELLS)[number]) => unknown, b: (c: (typeof CELLS)[number]) => unknown) => new Set(CELLS.map((c) => `${a(c)}|${b(c)}`)).size;
  expect(pairs((c) => c.mode, (c) => c.copies)).toBe(7);
  expect(pairs((c) => c.mode, (c) => c.key)).toBe(6);
  expect(pairs((c) => c.copies, (c) => c.key)).toBe(6);
  expect(CELLS).toHaveLength(8);
});

describe.each(CELLS.map((c) => [KEY_LABEL[c.key], c.mode, c.copies, c.key] as const))('keyed by %s', (_what, mode, concurrency, keyName) => {
  it(`${mode} × ${concurrency}: the one-copy answer, each key on exactly one copy, flushed copy after copy`, async () => {
    const key = [...KEYS[keyName]];
    const { out } = await run(mode, concurrency, key);
    const { rows, answer } = await readBack(out, key);
    // Each key once (a key two copies saw would be two rows), with every row of it counted.
    expect(answer).toEqual(expected(key as ('day' | 'country' | 'shop')[]));
    const copies = rows.map((r) => Number(r.copy));
    for (const r of rows) expect(Number(r.copies)).toBe(concurrency);
    // Every copy holds some keys (the keys spread), and the output comes copy after copy.
    expect(new Set(copies).size).toBe(concurrency);
    expect(copies).toEqual([...copies].sort((a, b) => a - b));
  }, 60_000);
});

it('a key column missing at run time (past a stage that does not say its columns) fails the run naming stage, batch and column; nothing written', async () => {
  const stages = [
    { name: 'opaque', module: IDENTITY, mode: 'inline' },
    { name: 'agg', module: STAGE, mode: 'thread', concurrency: 2, key: ['region'], options: { key: ['region'], value: 'amount' } },
  ];
  const dir = path.join(root, `case-${n}`); // the next run's directory
  await expect(run('thread', 2, ['region'], stages)).rejects.toThrow(
    /stage "agg", batch #0, from .*in\.csv failed in process\(\): routing rows by key \(region\): key column "region" is not in the batch \(its columns: day, country, shop, amount\)/,
  );
  expect(existsSync(path.join(dir, 'out.csv'))).toBe(false);
});

/**
 * The producer in each mode before the keyed stage (and the source thread as the producer), the
 * keyed stage at 2 copies in thread or process mode: each producer once, each consumer mode
 * twice (pairs, not the full 4 × 2, to keep the file short: the consumer's mode does not decide
 * where the cut is made, plan/key-split.ts). The one-copy answer every time, and the cut made
 * where the plan says, as the run report counts it: in the producer's own threads (their ids,
 * never the main thread's) or child processes (their pids, never ours), nothing cut on the main
 * thread; with an inline producer, every item cut on the main thread.
 */
const PRODUCERS = [
  ['thread', 'process'],
  ['process', 'thread'],
  ['inline', 'process'],
  ['source thread', 'thread'],
] as const;
describe('where the cut is made', () => {
  it.each(PRODUCERS)('producer %s, keyed stage %s × 2: the one-copy answer, cut where the plan says', async (producer, mode) => {
    const key: ('day' | 'country')[] = ['day', 'country'];
    const agg = { name: 'agg', module: STAGE, mode, concurrency: 2, key, options: { key, value: 'amount' } };
    const stages = producer === 'source thread' ? [agg] : [{ name: 'before', module: IDENTITY, mode: producer, concurrency: 2 }, agg];
    const { report, out } = await run(mode, 2, key, stages, producer === 'source thread' ? { thread: true } : { thread: false });
    const { answer } = await readBack(out, key);
    expect(answer).toEqual(expected(key));
    const cut = report.stages.find((s: { name: string }) => s.name === 'agg')!.keyed!;
    const items = Math.ceil(ROWS / 128);
    expect(cut.cutOnMain + cut.cutByProducer).toBe(items);
    expect(cut.rowsPerCopy.reduce((a: number, b: number) => a + b, 0)).toBe(ROWS);
    if (producer === 'inline') {
      expect(cut).toMatchObject({ cutOnMain: items, cutByProducer: 0, bytesCopiedByProducer: 0, producers: [] });
      expect(cut.bytesCopiedOnMain).toBeGreaterThan(0);
      return;
    }
    expect(cut).toMatchObject({ cutOnMain: 0, cutByProducer: items, bytesCopiedOnMain: 0, splitMs: 0 });
    // Rows of most batches go to both copies: the producer copied them into parts.
    expect(cut.bytesCopiedByProducer).toBeGreaterThan(0);
    // Where it ran: the producer's own threads (the source's one, the stage's two) or its children.
    expect(cut.producers.length).toBe(producer === 'source thread' ? 1 : 2);
    if (producer === 'process') for (const pid of cut.producers) expect(pid).not.toBe(process.pid);
    else for (const id of cut.producers) expect(id).not.toBe(threadId);
  }, 60_000);

  it('a key column missing, cut in a thread producer: the error of the keyed stage (stage, batch, column), as when main cuts; nothing written', async () => {
    const stages = [
      { name: 'opaque', module: IDENTITY, mode: 'thread', concurrency: 2 },
      { name: 'agg', module: STAGE, mode: 'thread', concurrency: 2, key: ['region'], options: { key: ['region'], value: 'amount' } },
    ];
    const dir = path.join(root, `case-${n}`);
    await expect(run('thread', 2, ['region'], stages, { thread: false })).rejects.toThrow(
      /stage "agg", batch #\d+, from .*in\.csv failed in process\(\): routing rows by key \(region\): key column "region" is not in the batch \(its columns: day, country, shop, amount\)/,
    );
    expect(existsSync(path.join(dir, 'out.csv'))).toBe(false);
  }, 60_000);
});
