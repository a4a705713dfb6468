/**
 * A thread copy that parses its own CSV chunks (fusion, worker/parse-input.ts) hands its first
 * stage the frame polars parsed, as a batch standing for it (batch/frame-handoff.ts): a stage
 * that takes it by `ctx.toDataFrame` gets it with nothing converted, also when projection
 * pushdown left columns out (the guard holds it without converting it); a stage that reads it
 * in Arrow gets it converted then, with the same values; the task's lease holds that slab and
 * gives it back. A frame of types the conversion changes, or of no rows, is converted at once.
 * Expected values are written from the CSV text itself.
 */
import pl from 'nodejs-polars';
import pino from 'pino';
import { frameOf, handoffs, stillAFrame } from '../../../src/batch/frame-handoff';
import { SlabArena } from '../../../src/batch/slab';
import { csvChunkItem } from '../../../src/csv/item';
import type { CsvParse } from '../../../src/csv/parse';
import type { StageDefinition } from '../../../src/worker/api';
import { StageChain } from '../../../src/worker/chain';
import { parseIfChunk } from '../../../src/worker/parse-input';

const HEADER = 'c0,c1,c2\n';
const parse = (types: CsvParse['types']): CsvParse => ({
  file: '/in/t.csv',
  base: { hasHeader: true, sep: ',', quoteChar: '"', ignoreErrors: false },
  columns: ['id', 'name', 'amount'],
  fields: ['c0', 'c1', 'c2'],
  types,
});
const TYPES = { id: 'int64', name: 'utf8', amount: 'float64' } as const;
const LINES = ['1,"a, b",1.5', '2,,2.25', '3,é,-0.5'];
const chunk = (lines = LINES, types: CsvParse['types'] = TYPES) =>
  csvChunkItem({ text: Buffer.from(HEADER + lines.map((l) => `${l}\n`).join('')), prefixLength: HEADER.length, rows: lines.length, firstLine: 2, parse: parse(types) }).batches;
const WANT = { id: [1, 2, 3], name: ['a, b', null, 'é'], amount: [1.5, 2.25, -0.5] };

/** The stage `def` as the only member of a copy's chain, told that `leftOut` was left out. */
async function chainOf(def: StageDefinition, leftOut: string[]): Promise<StageChain> {
  const chain = await StageChain.load([{ stage: 's', modulePath: '/nowhere/s.ts', options: {} }], { params: {}, copy: 0, copies: 1, mode: 'thread', log: pino({ level: 'silent' }), load: async () => def });
  chain.leaveOut([leftOut]);
  return chain;
}

const polarsStage: StageDefinition = { passesOnUnlisted: true, process: (b, ctx) => ctx.toDataFrame(b).withColumns(pl.col('amount').mul(2).alias('twice')) };
const arrowStage: StageDefinition = {
  passesOnUnlisted: true,
  process: (b, ctx) => {
    const name = ctx.strings(b, 'name');
    return ctx.table({ id: b.getChild('id')!, name: ctx.utf8(name), amount: b.getChild('amount')! });
  },
};

function columns(batch: { getChild(n: string): { toArray(): ArrayLike<unknown> } | null }, names: string[]): Record<string, unknown[]> {
  return Object.fromEntries(names.map((n) => [n, Array.from(batch.getChild(n)!.toArray(), (v) => (typeof v === 'bigint' ? Number(v) : v))]));
}

it.each([
  ['nothing', []],
  ['a column', ['note']],
])('a stage taking it by ctx.toDataFrame gets the frame, nothing converted (left out: %s)', async (_what, leftOut) => {
  const arena = new SlabArena();
  const parsed = parseIfChunk(chunk(), arena)!;
  const input = parsed.input.batches[0];
  expect(stillAFrame(input)).toBe(true);
  const before = handoffs.materialised;
  const out = await (await chainOf(polarsStage, leftOut)).process(parsed.input, 0, 1, '/in/t.csv');
  expect(handoffs.materialised).toBe(before);
  expect(stillAFrame(input)).toBe(true);
  expect(arena.stats.allocations).toBe(0); // no slab written for the parse
  expect(columns(out.batches[0], ['id', 'name', 'amount', 'twice'])).toEqual({ ...WANT, twice: [3, 4.5, -1] });
  out.born.release();
  parsed.lease.release();
});

it('a stage reading it in Arrow gets it converted into a slab, the same values; the task lease gives the slab back', async () => {
  const arena = new SlabArena();
  const parsed = parseIfChunk(chunk(), arena)!;
  const before = handoffs.materialised;
  const out = await (await chainOf(arrowStage, ['note'])).process(parsed.input, 0, 1, '/in/t.csv');
  expect(handoffs.materialised).toBe(before + 1);
  expect(columns(out.batches[0], ['id', 'name', 'amount'])).toEqual(WANT);
  expect(arena.live).toBe(1);
  out.born.release();
  parsed.lease.release();
  expect(arena.live).toBe(0);
});

it('a left-out column asked for by name still fails, naming it', async () => {
  const parsed = parseIfChunk(chunk(), new SlabArena())!;
  const asks: StageDefinition = { passesOnUnlisted: true, process: (b) => void b.getChild('note') };
  const err = await (await chainOf(asks, ['note'])).process(parsed.input, 0, 4, '/in/t.csv').catch((e: unknown) => e);
  expect((err as Error).message).toContain('column "note" is not in the batch: the source did not read it');
  parsed.lease.release();
});

it.each([
  ['no rows', [], TYPES],
  ['a type the conversion changes (time)', ['1,x,10:00:00'], { ...TYPES, amount: 'time' }],
] as const)('%s: converted at once, as before', (_what, lines, types) => {
  const parsed = parseIfChunk(chunk([...lines], types), new SlabArena())!;
  expect(stillAFrame(parsed.input.batches[0])).toBe(false);
  expect(parsed.input.batches[0].numRows).toBe(lines.length);
  expect(parsed.input.batches[0].schema.names).toEqual(['id', 'name', 'amount']);
  parsed.lease.release();
});

it('hands on the parsed frame in one chunk, however many pieces polars parsed it in', () => {
  // Enough rows that polars' CSV reader cuts them into pieces (one per slice of its threads' work).
  const lines = Array.from({ length: 40_000 }, (_, i) => `${i},n${i % 97},${i / 4}`);
  const items = chunk(lines);
  const { parseChunk } = jest.requireActual<typeof import('../../../src/csv/parse')>('../../../src/csv/parse');
  expect(parseChunk({ text: Buffer.from(HEADER + lines.map((l) => `${l}\n`).join('')), prefixLength: HEADER.length, rows: lines.length, firstLine: 2 }, parse(TYPES)).nChunks()).toBeGreaterThan(1);
  const parsed = parseIfChunk(items, new SlabArena())!;
  const frame = frameOf(parsed.input.batches[0])!;
  expect(frame.nChunks()).toBe(1);
  expect(frame.height).toBe(40_000);
  expect(frame.getColumn('id').toArray().slice(-2)).toEqual([39_998, 39_999]);
  parsed.lease.release();
});
