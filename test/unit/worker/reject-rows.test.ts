/**
 * `ctx.reject(rows, reason)` in a stage, through the test kit's runStage (the engine's own
 * executors): each way of naming rows (indices, Int32Array, Uint32Array, boolean[], Uint8Array,
 * an Arrow Bool vector) takes out exactly those rows, a row named twice counts once with its
 * first reason, the values are the row's as the stage received it (a 64-bit integer past 2^53
 * as its digits), and each misuse is refused with a message saying what to do. The kit shows
 * the rejects in every mode (thread and process carry them back from their copies).
 */
import path from 'node:path';
import { Bool, Decimal, Int64, Table, TimestampMicrosecond, makeData, makeVector, vectorFromArray } from 'apache-arrow';
import { RejectScope } from '../../../src/worker/reject-rows';
import { batchFromRows, runStage } from 'sluice/testing';

const STAGES = path.resolve(__dirname, '../../fixtures/stages');
const REJECTS = path.join(STAGES, 'rejects-rows.ts');
const MISUSE = path.join(STAGES, 'reject-misuse.ts');
const rows = (ids: number[]) => ids.map((id) => ({ id, name: `n${id}`, x: id / 2 }));

describe('the ways of naming rows', () => {
  const batch = new Table({ id: vectorFromArray([1n, 2n, 2n ** 60n + 1n, 4n], new Int64()), ok: vectorFromArray([true, false, true, false], new Bool()) }).batches[0];
  const cases: [string, Parameters<RejectScope['add']>[0]][] = [
    ['number[]', [2, 0]],
    ['Int32Array', Int32Array.of(0, 2)],
    ['Uint32Array', Uint32Array.of(2, 0)],
    ['boolean[]', [true, false, true, false]],
    ['Uint8Array mask', Uint8Array.of(1, 0, 7, 0)],
    ['Arrow Bool vector', batch.getChild('ok')!],
  ];
  it.each(cases)('%s: exactly those rows, in row order, with their values', (_name, named) => {
    const scope = new RejectScope({}, batch);
    scope.add(named, 'bad');
    expect(scope.close('s', 10)).toEqual([
      { stage: 's', index: 0, at: 10, reason: 'bad', values: '{"id":1,"ok":true}' },
      { stage: 's', index: 2, at: 12, reason: 'bad', values: `{"id":"${2n ** 60n + 1n}","ok":true}` },
    ]);
  });

  it('the values are each as the NDJSON sink writes it: a Decimal from its scale, a timestamp at its unit (not the unscaled integer, not milliseconds)', () => {
    const half = makeVector(makeData({ type: new Decimal(1, 38, 128), length: 1, data: Uint32Array.of(500, 0, 0, 0) })); // 50.0
    const ts = makeVector(makeData({ type: new TimestampMicrosecond(), length: 1, data: BigInt64Array.of(1_000_001n) }));
    const scope = new RejectScope({}, new Table({ half, ts }).batches[0]);
    scope.add([0], 'bad');
    expect(scope.close('s', 0)[0].values).toBe('{"half":50.0,"ts":"1970-01-01T00:00:01.000001"}');
  });

  it('a row named twice counts once, with its first reason; no offset: no position in the task', () => {
    const scope = new RejectScope({}, batch);
    scope.add([1], 'first');
    scope.add([true, true, false, false], 'second');
    expect(scope.close('s', undefined).map((r) => [r.index, r.reason, r.at])).toEqual([
      [0, 'second', undefined],
      [1, 'first', undefined],
    ]);
  });

  it('an empty list rejects nothing', () => {
    const scope = new RejectScope({}, batch);
    scope.add([], 'nothing');
    expect(scope.close('s', 0)).toEqual([]);
  });
});

describe('the test kit shows the rejects', () => {
  it.each(['inline', 'thread', 'process'] as const)('%s', async (mode) => {
    const result = await runStage(REJECTS, [batchFromRows(rows([1, 2, 3])), batchFromRows(rows([4, 5]))], { mode, options: { ids: [2, 5], as: 'uint8' } });
    expect(result.rows().map((r) => Number(r.id))).toEqual([1, 3, 4]);
    expect(result.rejects).toEqual([
      { batch: 0, row: 1, reason: 'id on the refused list', values: { id: 2, name: 'n2', x: 1 } },
      { batch: 1, row: 1, reason: 'id on the refused list', values: { id: 5, name: 'n5', x: 2.5 } },
    ]);
  }, 30_000);
});

describe('misuse is refused, saying what to do', () => {
  const three = () => [batchFromRows(rows([1, 2, 3]))];
  it.each([
    ['range', /ctx\.reject\(rows, reason\): 3 is not the index of a row of the batch; rows are indices of the batch process\(\) received \(0 … 2/],
    ['fraction', /0\.5 is not the index of a row/],
    ['mask-length', /a mask of 1 entries for a batch of 3 rows/],
    ['reason', /reason must be a non-empty string \(got an empty string\)/],
    ['mixed', /an array that is neither all numbers nor all booleans/],
    ['object', /ctx\.reject\(rows, reason\): got Object/],
    ['in-setup', /failed in setup\(\).*for process\(\) only \(stage "reject-misuse" called it outside process\(\)/],
    ['in-flush', /failed in flush\(\).*for process\(\) only/],
  ])('%s', async (how, message) => {
    await expect(runStage(MISUSE, three(), { options: { how } })).rejects.toThrow(message);
  });

  it('a call after process() returned (a callback it did not await) throws, and counts nowhere', async () => {
    const result = await runStage(MISUSE, three(), { options: { how: 'late' } });
    expect(result.rejects).toEqual([]);
    expect(result.flushed.length).toBe(1);
    expect(result.flushed[0].getChild('message')!.get(0)).toMatch(/ctx\.reject\(rows, reason\) was called after process\(\) returned: call it before process\(\) returns/);
  });
});
