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
