/**
 * Projection pushdown must never change an answer: a stage whose `reads` is wrong but which
 * learns the column list some way other than by name (test/fixtures/stages/learns-columns.ts,
 * every way found) fails while its batch lacks left-out columns, naming them and what to do
 * (batch/left-out-guard.ts), through the StageHost every mode runs (test/e2e/
 * projection-enumerate.test.ts runs them in real runs in every mode). The full product here:
 * every way × (no pushdown: the full answer; pushdown, undeclared: the failure; pushdown, the
 * stage declaring `passesOnUnlisted`: runs and passes on what it got), and every way of asking
 * by name × both declarations; then that the batch, rows and tables are apache-arrow's own
 * again after `process`. All of it twice: on an Arrow batch, and on a polars frame handed on as
 * a batch (batch/frame-handoff.ts: a fused group's frame, the parse's, a Parquet source's), which
 * the guard holds to the same rules without converting it first.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { handoffs, standIn, stillAFrame } from '../../../src/batch/frame-handoff';
import { batchToDataFrame, dataFrameToBatches } from '../../../src/batch/polars';
import { StageError } from '../../../src/errors';
import type { StageDefinition } from '../../../src/worker/api';
import { StageHost } from '../../../src/worker/host';
import { WAYS, definition, type Way } from '../../fixtures/stages/learns-columns';

const N = 4;
/** As the source gives it without pushdown: id, x, y and note; with pushdown y and note are left out. */
const arrowFull = (): RecordBatch =>
  tableFromArrays({ id: Int32Array.from({ length: N }, (_, i) => i), x: Float64Array.from({ length: N }, (_, i) => i * 0.5), y: Float64Array.from({ length: N }, (_, i) => 100 + i), note: Array.from({ length: N }, (_, i) => `n${i}`) }).batches[0];
/** The same rows as a polars frame handed on: a stand-in, converted only when read as Arrow. */
const asFrame = (batch: RecordBatch): RecordBatch => {
  const df = batchToDataFrame(batch);
  return standIn(df, () => dataFrameToBatches(df)[0]);
};
const KINDS = [
  ['an Arrow batch', (b: RecordBatch) => b],
  ['a polars frame handed on', asFrame],
] as const;
const LEFT_OUT = ['y', 'note'];

async function host(def: StageDefinition<never>, options: Record<string, unknown>, leftOut: string[]): Promise<StageHost> {
  const h = await StageHost.load({ stage: 'learner', modulePath: '/nowhere/learner.ts', options, copy: 0, copies: 1, mode: 'inline', log: pino({ level: 'silent' }), load: async () => def as unknown as StageDefinition });
  h.leaveOut(leftOut);
  return h;
}

const columnsOf = (batch: RecordBatch) => Object.fromEntries(batch.schema.fields.map((f) => [f.name, [...batch.getChild(f.name)!.toArray()].map(Number)]));
const ways = Object.keys(WAYS) as Way[];

describe.each(KINDS)('on %s', (_kind, as) => {
  const full = (): RecordBatch => as(arrowFull());
  const pushedDown = (): RecordBatch => as(arrowFull().select(['id', 'x']));

  describe.each(ways)('a stage that learns its columns by %s', (way) => {
    it('without pushdown: sums every column (the answer a run must give or refuse)', async () => {
      const h = await host(definition, { way, role: 'sum', reads: ['id', 'x'] }, []);
      const out = await h.process({ batches: [full()] });
      const got = columnsOf(out.batches[0]);
      expect(got.ncols).toEqual(Array(N).fill(4));
      // id + x + y; note is text (0).
      expect(got.total).toEqual(Array.from({ length: N }, (_, i) => i + i * 0.5 + 100 + i));
    });

    it('with pushdown and a reads() that lists fewer: fails naming the stage, the columns left out and what to do, before any output', async () => {
      const h = await host(definition, { way, role: 'sum', reads: ['id', 'x'] }, LEFT_OUT);
      const err = await h.process({ batches: [pushedDown()] }, 5, 'in.csv').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StageError);
      const message = (err as Error).message;
      expect(message).toContain('stage "learner"');
      expect(message).toContain('batch #5, from in.csv');
      expect(message).toMatch(/it learned which columns its batch has \(.+\) while projection pushdown left out y, note/);
      expect(message).toContain('list it in its reads(options)');
      expect(message).toContain('passesOnUnlisted: true');
    });

    it('with pushdown, declared passesOnUnlisted: runs, and passes on the columns it got as they were', async () => {
      const h = await host({ ...definition, passesOnUnlisted: true }, { way, role: 'pass', reads: ['x'] }, LEFT_OUT);
      const out = await h.process({ batches: [pushedDown()] });
      expect(columnsOf(out.batches[0])).toEqual({ id: [0, 1, 2, 3], x: [0, 0.5, 1, 1.5] });
    });
  });

  /** Asking by name for a left-out column: fails whether or not the stage declared passesOnUnlisted. */
  const ASK: Record<string, (b: RecordBatch, ctx: StageHost['ctx']) => unknown> = {
    getChild: (b) => b.getChild('y')?.toArray() ?? [],
    'select([…])': (b) => b.select(['id', 'y']).getChild('y'),
    setChild: (b) => b.setChild('y', b.getChild('x')!),
    'row.y': (b) => (b.get(0) as unknown as Record<string, unknown>).y ?? 0,
    "'y' in row": (b) => 'y' in (b.get(0) as object),
    'ctx.strings': (b, ctx) => ctx.strings(b, 'note'),
    'slice().getChild': (b) => b.slice(1).getChild('y') ?? [],
  };

  describe.each(Object.keys(ASK))('asking by name (%s) for a left-out column', (ask) => {
    it.each([false, true])('fails naming it (passesOnUnlisted: %s)', async (declared) => {
      const def: StageDefinition = { passesOnUnlisted: declared, process: (b, ctx) => void ASK[ask](b, ctx as never) };
      const h = await host(def, {}, LEFT_OUT);
      const err = await h.process({ batches: [pushedDown()] }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/column "(y|note)" is not in the batch: the source did not read it/);
    });
  });

  it('a stage that asks only by name for columns it has runs as without pushdown, rows included', async () => {
    const def: StageDefinition = {
      process(b) {
        const xs = [...b].map((row) => (row as unknown as { x: number }).x);
        return tableFromArrays({ id: b.getChild('id')!.toArray() as Int32Array, x2: Float64Array.from(xs, (x) => x * 2), got: Float64Array.from(b.select(['id', 'x']).getChild('x')!.toArray() as Float64Array) });
      },
    };
    const h = await host(def, {}, LEFT_OUT);
    const out = await h.process({ batches: [pushedDown()] });
    expect(columnsOf(out.batches[0])).toEqual({ id: [0, 1, 2, 3], x2: [0, 1, 2, 3], got: [0, 0.5, 1, 1.5] });
  });

  it('leaves the batch, its slices and their rows as apache-arrow makes them once process has run', async () => {
    let kept: { slice?: RecordBatch; row?: Record<string, unknown> } = {};
    const def: StageDefinition = {
      passesOnUnlisted: true,
      process(b) {
        kept = { slice: b.slice(0, 2), row: b.get(1) as unknown as Record<string, unknown> };
        return b;
      },
    };
    const h = await host(def, {}, LEFT_OUT);
    const batch = pushedDown();
    const out = await h.process({ batches: [batch] });
    expect(out.batches[0]).toBe(batch);
    expect(Object.getOwnPropertyDescriptor(batch, 'schema')?.get).toBeUndefined(); // a plain property again
    expect(batch.schema.names).toEqual(['id', 'x']);
    expect(batch.numCols).toBe(2);
    expect(batch.getChild('y')).toBeNull(); // absent, as apache-arrow says, outside process
    expect(kept.slice!.schema.names).toEqual(['id', 'x']);
    expect(Object.keys(kept.row!)).toEqual(['id', 'x']);
    expect(kept.row!.y).toBeUndefined();
  });
});

describe('a polars frame handed on, under the guard', () => {
  const frame = (): RecordBatch => asFrame(arrowFull().select(['id', 'x']));
  const takes: StageDefinition = { passesOnUnlisted: true, process: (b, ctx) => ctx.toDataFrame(b) };

  it('is taken by ctx.toDataFrame as the frame, never converted to Arrow (the point of handing it on)', async () => {
    const before = handoffs.materialised;
    const h = await host(takes, {}, LEFT_OUT);
    const batch = frame();
    const out = await h.process({ batches: [batch] });
    expect(handoffs.materialised).toBe(before);
    expect(stillAFrame(batch)).toBe(true);
    expect(columnsOf(out.batches[0])).toEqual({ id: [0, 1, 2, 3], x: [0, 0.5, 1, 1.5] });
    out.born.release();
    // Read after process, it is the real batch, unguarded: apache-arrow's answers.
    expect(batch.schema.names).toEqual(['id', 'x']);
    expect(batch.getChild('y')).toBeNull();
    expect(stillAFrame(batch)).toBe(false);
  });

  it('is refused to a stage that did not declare passesOnUnlisted, without being converted first', async () => {
    const before = handoffs.materialised;
    const h = await host({ process: (b, ctx) => ctx.toDataFrame(b) }, {}, LEFT_OUT);
    const err = await h.process({ batches: [frame()] }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/it learned which columns its batch has \(ctx.toDataFrame\(batch\): a DataFrame shows every column\) while projection pushdown left out y, note/);
    expect(handoffs.materialised).toBe(before);
  });

  it('made real while process runs (read by name), stays guarded for the rest of the call', async () => {
    const got: unknown[] = [];
    const def: StageDefinition = {
      passesOnUnlisted: true,
      process(b, ctx) {
        got.push(stillAFrame(b), [...b.getChild('x')!.toArray()], stillAFrame(b), ctx.toDataFrame(b).height);
        b.getChild('note');
      },
    };
    const h = await host(def, {}, LEFT_OUT);
    const err = await h.process({ batches: [frame()] }).catch((e: unknown) => e);
    expect(got).toEqual([true, [0, 0.5, 1, 1.5], false, N]);
    expect((err as Error).message).toContain('column "note" is not in the batch: the source did not read it');
  });
});
