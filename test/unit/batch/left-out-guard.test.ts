/**
 * The guard on columns projection pushdown left out (src/batch/left-out-guard.ts), through the
 * StageHost every mode wraps: while `process` runs, asking a batch by name for a column the
 * source left out throws, naming it; every other column, present or absent, comes back as
 * apache-arrow gives it; after `process` the batch is as it was. And which columns each stage of
 * a plan is told (plan/left-out.ts), fused members one by one.
 */
import { Table, tableFromArrays, type RecordBatch } from 'apache-arrow';
import pino from 'pino';
import { StageError } from '../../../src/errors';
import { leftOutPerStage } from '../../../src/plan/left-out';
import type { Plan, PlannedStage } from '../../../src/plan/types';
import type { StageDefinition } from '../../../src/worker/api';
import { StageHost } from '../../../src/worker/host';

const batch = (): RecordBatch => tableFromArrays({ id: Int32Array.from([1, 2, 3]), day: ['a', 'b', 'c'] }).batches[0];

/** A stage that asks for `ask` the way code that copes with a missing column does, and records what it got. */
async function hostAsking(ask: string, got: unknown[]): Promise<StageHost> {
  const definition: StageDefinition = {
    process(b) {
      got.push(b.getChild(ask)?.toArray() ?? 'absent');
      return b;
    },
  };
  return StageHost.load({ stage: 's', modulePath: '/nowhere/s.ts', options: {}, copy: 0, copies: 1, mode: 'inline', log: pino({ level: 'silent' }), load: async () => definition });
}

it('fails a stage that asks by name for a column the source left out, naming the column, the stage and the batch', async () => {
  const got: unknown[] = [];
  const host = await hostAsking('note', got);
  host.leaveOut(['note', 'name']);
  const err = await host.process({ batches: [batch()] }, 7, 'in.csv').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StageError);
  expect((err as StageError).message).toContain('stage "s"');
  expect((err as StageError).message).toContain('batch #7, from in.csv');
  expect((err as StageError).message).toContain(`column "note" is not in the batch: the source did not read it, as no stage lists it in its reads() and the sink does not get it (projection pushdown); list it in this stage's reads(options)`);
  expect(got).toEqual([]); // it never went on with a default
});

it('gives every other column as apache-arrow does: present, or absent for another reason', async () => {
  const got: unknown[] = [];
  const present = await hostAsking('day', got);
  present.leaveOut(['note']);
  await present.process({ batches: [batch()] });
  const ghost = await hostAsking('ghost', got);
  ghost.leaveOut(['note']);
  await ghost.process({ batches: [batch()] });
  const untold = await hostAsking('note', got);
  await untold.process({ batches: [batch()] }); // nothing left out: as without pushdown
  expect(got).toEqual([['a', 'b', 'c'], 'absent', 'absent']);
});

it('leaves the batch as it was once process has run (the engine and later stages read it after)', async () => {
  const b = batch();
  const host = await hostAsking('day', []);
  host.leaveOut(['note']);
  await host.process({ batches: [b] });
  expect(b.getChild('note')).toBeNull(); // no throw: the guard holds only while process runs
});

/** A stage that reads `ask` from row objects, as code that copes with a missing column does, in the ways rows are had. */
async function hostReadingRows(ask: string, how: 'get' | 'for-of' | 'toArray' | 'destructure' | 'table', got: unknown[]): Promise<StageHost> {
  const read = (row: Record<string, unknown> | null) => {
    if (how === 'destructure') {
      const { [ask]: value } = row!;
      return value ?? 'absent';
    }
    return row![ask] ?? 'absent';
  };
  const definition: StageDefinition = {
    // `new Table(b)` learns the column list: allowed only to a stage that says it passes the unlisted ones on.
    passesOnUnlisted: how === 'table',
    process(b) {
      if (how === 'get') for (let i = 0; i < b.numRows; i++) got.push(read(b.get(i) as never));
      else if (how === 'toArray') for (const row of b.toArray()) got.push(read(row as never));
      else if (how === 'table') for (const row of new Table(b)) got.push(read(row as never));
      else for (const row of b) got.push(read(row as never));
      return b;
    },
  };
  return StageHost.load({ stage: 's', modulePath: '/nowhere/s.ts', options: {}, copy: 0, copies: 1, mode: 'inline', log: pino({ level: 'silent' }), load: async () => definition });
}

describe.each(['get', 'for-of', 'toArray', 'destructure', 'table'] as const)('rows had by %s', (how) => {
  it('fail a stage reading a left-out column from them, before it goes on with a default', async () => {
    const got: unknown[] = [];
    const host = await hostReadingRows('note', how, got);
    host.leaveOut(['note']);
    const err = await host.process({ batches: [batch()] }, 3, 'in.csv').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageError);
    expect((err as StageError).message).toContain('stage "s"');
    expect((err as StageError).message).toContain(`column "note" is not in the batch: the source did not read it`);
    expect(got).toEqual([]);
  });

  it('give present columns and columns absent for another reason as apache-arrow does', async () => {
    const got: unknown[] = [];
    for (const [ask, leftOut] of [['day', ['note', 'day2']], ['id', ['note']], ['ghost', ['note']], ['note', []]] as const) {
      const host = await hostReadingRows(ask, how, got);
      host.leaveOut(leftOut);
      await host.process({ batches: [batch()] });
    }
    expect(got).toEqual(['a', 'b', 'c', 1, 2, 3, ...Array(6).fill('absent')]);
  });
});

it('leaves rows as apache-arrow makes them outside a guarded process: keys, a name the row lacks, writes, methods', async () => {
  const host = await hostReadingRows('note', 'get', []);
  host.leaveOut(['note']);
  await host.process({ batches: [batch()] }).catch(() => undefined); // a guarded process ran on this thread
  const rows = batch().toArray() as Record<string, unknown>[];
  expect(rows.map((r) => r.day)).toEqual(['a', 'b', 'c']);
  expect(rows.map((r) => r.note)).toEqual([undefined, undefined, undefined]); // absent, not left out here
  expect(Object.keys(rows[0])).toEqual(['id', 'day']);
  expect('note' in rows[0]).toBe(false);
  expect(JSON.stringify(rows[0])).toBe('{"id":1,"day":"a"}');
  const b = batch();
  const row = b.get(1) as unknown as Record<string, unknown>;
  row.day = 'z'; // a present column: written through, as apache-arrow does
  expect([row.day, b.getChild('day')!.get(1)]).toEqual(['z', 'z']);
  expect(() => {
    'use strict';
    row.name = 'x';
  }).toThrow(TypeError); // a column the row lacks stays unwritable
});

it('tells each stage of a plan its own columns: fused members one by one, sluice’s own stages none', () => {
  const stage = (over: Partial<PlannedStage>) => ({ name: 'x', modulePath: '', mode: 'thread', copies: 1, slotsPerCopy: 1, options: {}, output: { capacity: 1, capacityBytes: 1 }, ...over }) as PlannedStage;
  const member = (name: string) => ({ name, modulePath: '', options: {} });
  const plan = {
    stages: [stage({ mode: 'inline' }), stage({ fused: [member('b'), member('c')] }), stage({ mode: 'process' }), stage({ encode: { input: 'batches', rowGroupSize: 1, compression: 'zstd', target: 'o', partitioned: false } })],
    projection: { columns: ['id'], pruned: ['n', 'm'], missing: [['n', 'm'], ['n'], ['m'], []] },
  } as unknown as Plan;
  expect(leftOutPerStage(plan)).toEqual([[['n', 'm']], [['n'], ['m']], [[]], [[]]]);
});
