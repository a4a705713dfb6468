/**
 * Rejects: the counts the report carries, their order (the input's, whatever order parallel
 * copies rejected in), and the budget (`maxErrors` as a count and as a share of the rows read).
 */
import { Rejects, type Reject } from '../../../src/runtime/rejects';

const stageRow = (batch: number, row: number, reason: string, stage = 'boom'): Reject => ({ origin: 'stage', stage, batch, row, reason });

it('reports counts in the order of their first row in the input, not the order they arrived in', () => {
  const inArrivalOrder = new Rejects(undefined);
  // A second copy finished batch 2 before the first finished batch 0.
  inArrivalOrder.add('dead-letter', [stageRow(2, 2999, 'c')]);
  inArrivalOrder.add('skip', [{ origin: 'source', batch: 1, line: 1502, row: 1501, reason: 'b' }]);
  inArrivalOrder.add('dead-letter', [stageRow(0, 17, 'a'), stageRow(2, 3000, 'a')]);
  expect(inArrivalOrder.report()).toEqual([
    { place: 'boom', action: 'dead-letter', reason: 'a', rows: 2 },
    { place: 'source', action: 'skip', reason: 'b', rows: 1 },
    { place: 'boom', action: 'dead-letter', reason: 'c', rows: 1 },
  ]);
});

it('writes the dead-letter rows in input order (batch, source before stages, row), not in the order they were found', async () => {
  const written: { batch: number; origin: string; row: number | null; line: number | null }[] = [];
  const rejects = new Rejects(undefined, {
    write: async (b) => {
      for (const r of b.toArray()) written.push({ batch: Number(r.batch), origin: String(r.origin), row: r.row === null ? null : Number(r.row), line: r.line === null ? null : Number(r.line) });
    },
  });
  // A second copy finished batch 2 before the first finished batch 0; the source thread, a batch ahead, found batch 1's.
  rejects.add('dead-letter', [stageRow(2, 3000, 'c'), stageRow(2, 2999, 'c')]);
  rejects.add('dead-letter', [{ origin: 'source', batch: 1, line: 1502, reason: 'b' }]);
  rejects.add('dead-letter', [stageRow(1, 1600, 'a'), stageRow(0, 17, 'a')]);
  rejects.add('dead-letter', [{ origin: 'source', batch: 1, line: 1500, reason: 'b' }]);
  await rejects.drain();
  expect(written).toEqual([
    { batch: 0, origin: 'stage', row: 17, line: null },
    { batch: 1, origin: 'source', row: null, line: 1500 },
    { batch: 1, origin: 'source', row: null, line: 1502 },
    { batch: 1, origin: 'stage', row: 1600, line: null },
    { batch: 2, origin: 'stage', row: 2999, line: null },
    { batch: 2, origin: 'stage', row: 3000, line: null },
  ]);
});

it('fails past a maxErrors count, naming the stage and the first rows', () => {
  const rejects = new Rejects(1);
  rejects.add('skip', [stageRow(0, 5, 'bad five')]);
  expect(() => rejects.add('skip', [stageRow(0, 9, 'bad nine')])).toThrow(/2 rows rejected .*more than maxErrors: 1.*row 5: bad five; .*row 9: bad nine/);
});

it('checks a percentage against the rows read at the end', () => {
  const rejects = new Rejects('1%');
  rejects.add('skip', [stageRow(0, 1, 'x'), stageRow(0, 2, 'x')]);
  expect(() => rejects.checkShare(200)).not.toThrow();
  expect(() => rejects.checkShare(199)).toThrow(/more than maxErrors: '1%' of the 199 rows read/);
});

describe('a resumable run (held per input file until its unit is staged)', () => {
  const at = (file: string, batch: number, reason: string): Reject => ({ origin: 'stage', stage: 'boom', file, batch, row: 1, reason });

  it('holds the dead-lettered rows per file, counts skipped ones too, numbers batches on from the staged units, and writes nothing itself', async () => {
    const written: unknown[] = [];
    const rejects = new Rejects(undefined, { write: async (b) => void written.push(b) }, { carried: 4, seqOffset: 100 });
    // Out of unit order, as parallel copies reject.
    rejects.add('dead-letter', [at('b.csv', 7, 'late')]);
    rejects.add('dead-letter', [at('a.csv', 2, 'early')]);
    rejects.add('skip', [at('a.csv', 3, 'skipped')]);
    expect(rejects.total).toBe(4 + 3);
    await rejects.drain();
    expect(written).toEqual([]);
    const a = rejects.take('a.csv');
    expect(a.rejected).toBe(2);
    expect(a.batches.map((b) => b.numRows)).toEqual([1]);
    expect(Number(a.batches[0].getChild('batch')!.get(0))).toBe(102);
    expect(rejects.heldRows).toBe(1);
    expect(rejects.take('a.csv')).toEqual({ batches: [], rejected: 0, counts: [], first: [] });
    expect(rejects.take('b.csv').rejected).toBe(1);
    expect(rejects.heldRows).toBe(0);
  });

  it('keeps the counts per unit and reason (numbered on from the staged units), and a resumed run reports the earlier units\' counts with its own, in input order', () => {
    const first = new Rejects(undefined, undefined, { carried: 0, seqOffset: 0 });
    first.add('dead-letter', [at('a.csv', 2, 'bad'), at('a.csv', 1, 'bad')]);
    first.add('skip', [at('a.csv', 3, 'odd')]);
    const a = first.take('a.csv').counts;
    expect(a).toEqual([
      { place: 'boom', action: 'dead-letter', reason: 'bad', rows: 2, at: [1, 1] },
      { place: 'boom', action: 'skip', reason: 'odd', rows: 1, at: [3, 1] },
    ]);
    // The resumed run: unit a.csv staged before (4 batches); b.csv's batch 0 is the run's batch 4.
    const resumed = new Rejects(undefined, undefined, { carried: 3, seqOffset: 4, counts: a });
    resumed.add('dead-letter', [at('b.csv', 0, 'bad'), at('b.csv', 1, 'new')]);
    expect(resumed.take('b.csv').counts.map((c) => [c.reason, c.rows, c.at])).toEqual([
      ['bad', 1, [4, 1]],
      ['new', 1, [5, 1]],
    ]);
    expect(resumed.report()).toEqual([
      { place: 'boom', action: 'dead-letter', reason: 'bad', rows: 3 },
      { place: 'boom', action: 'skip', reason: 'odd', rows: 1 },
      { place: 'boom', action: 'dead-letter', reason: 'new', rows: 1 },
    ]);
    expect(resumed.total).toBe(5);
  });

  it('the carried rows count against a maxErrors count, and the error names the earlier units\' first rejects first', () => {
    const earlier = new Rejects(undefined, undefined, { carried: 0, seqOffset: 0 });
    earlier.add('skip', [at('a.csv', 0, 'in a')]);
    const first = earlier.take('a.csv').first;
    expect(first).toEqual([{ origin: 'stage', stage: 'boom', file: 'a.csv', row: 1, batch: 0, reason: 'in a' }]);
    const rejects = new Rejects(5, undefined, { carried: 5, seqOffset: 0, first });
    expect(() => rejects.add('skip', [at('b.csv', 0, 'one more')])).toThrow(/6 rows rejected .*more than maxErrors: 5.*The first: stage "boom", a.csv, row 1: in a; stage "boom", b.csv, row 1: one more/);
  });

  it('after redirect (the job commit), rows go straight to the sink; an empty batch only if nothing was replayed', async () => {
    const rows: number[] = [];
    const sink = { write: async (b: { numRows: number }) => void rows.push(b.numRows) };
    const replayedSome = new Rejects(undefined, undefined, { carried: 0, seqOffset: 0 });
    replayedSome.redirect(sink as never, 1);
    await replayedSome.drain();
    expect(rows).toEqual([]);
    const none = new Rejects(undefined, undefined, { carried: 0, seqOffset: 0 });
    none.redirect(sink as never, 0);
    none.add('dead-letter', [at('a.csv', 0, 'tail')]);
    await none.drain();
    expect(rows).toEqual([1]);
    expect(none.written).toBe(1);
  });

  it('a live tail\'s rejects (a fresh run\'s stages after the cut) count against the budget but belong to no unit: held, and written after the staged units\' at the commit', async () => {
    const written: string[] = [];
    const sink = { write: async (b: import('apache-arrow').RecordBatch) => void written.push(...Array.from({ length: b.numRows }, (_, i) => String(b.getChild('reason')!.get(i)))) };
    const rejects = new Rejects(3, undefined, { carried: 0, seqOffset: 0 });
    const tail = rejects.liveTail();
    tail.add('dead-letter', [at('a.csv', 1, 'in the tail')]);
    rejects.add('dead-letter', [at('a.csv', 0, 'in the head')]);
    tail.add('skip', [at('b.csv', 2, 'skipped in the tail')]);
    expect(rejects.total).toBe(3);
    // Unit a's line carries the head's reject only: a resumed run rejects the tail's again at its commit.
    const a = rejects.take('a.csv');
    expect(a).toMatchObject({ rejected: 1, counts: [{ place: 'boom', reason: 'in the head', rows: 1 }] });
    expect(rejects.take('b.csv').rejected).toBe(0);
    expect(rejects.heldRows).toBe(0);
    await rejects.drain();
    expect(written).toEqual([]);
    // The commit: the staged units' rows first (as replayed), then the tail's.
    for (const b of a.batches) await sink.write(b);
    rejects.redirect(sink as never, a.batches.length);
    await rejects.drain();
    expect(written).toEqual(['in the head', 'in the tail']);
    expect(rejects.written).toBe(1);
    expect(() => tail.add('skip', [at('b.csv', 3, 'one more')])).toThrow(/4 rows rejected .*more than maxErrors: 3/);
  });
});
