/**
 * An incremental run's choice of files and its state (io/units/incremental.ts), without a run:
 * a file is committed by path, identity and content hash (same bytes under a new identity are
 * still committed; other bytes under the path are a changed file); `--full` reads everything
 * and starts the state again; a file that changes while the run reads it is not recorded; a
 * state of other outputs, or one sluice cannot read, is refused with what to do; part ids sort
 * in the order runs started.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STATE_FILE, nextState, partId, readState, refuseOtherTargets, selectFiles, type IncrementalState } from '../../../../src/io/units/incremental';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-incr-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const targets = ['/out/a', '/out/b'];

it('reads new files; after they are committed, skips them; a touched file with the same bytes stays committed; other bytes are a changed file', async () => {
  const a = file('a.csv', 'x\n1\n');
  const b = file('b.csv', 'x\n2\n');
  const first = await selectFiles([a, b], undefined, false);
  expect(first).toMatchObject({ read: [a, b], skipped: [], changed: [], gone: [] });
  const state = nextState(undefined, first, { targets, part: 'p1', full: false });
  expect(state).toMatchObject({ runs: 1, targets, files: { [a]: { part: 'p1' }, [b]: { part: 'p1' } } });

  const c = file('c.csv', 'x\n3\n');
  const t = new Date('2026-01-01T00:00:00Z');
  utimesSync(a, t, t); // another identity, the same bytes
  writeFileSync(b, 'x\n20\n'); // other bytes
  const second = await selectFiles([a, b, c], state, false);
  expect(second).toMatchObject({ read: [b, c], skipped: [a], changed: [b], gone: [] });
  const after = nextState(state, second, { targets, part: 'p2', full: false });
  expect(after.runs).toBe(2);
  expect(after.files[a].part).toBe('p1');
  expect(after.files[b].part).toBe('p2');

  // A committed file that is gone: said, and kept in the state (its rows stay in the parts).
  rmSync(c);
  const third = await selectFiles([a, b], after, false);
  expect(third).toMatchObject({ read: [], gone: [c] });

  // --full: everything is read, and the state starts again with what is there.
  const full = await selectFiles([a, b], after, true);
  expect(full).toMatchObject({ read: [a, b], skipped: [], changed: [], gone: [] });
  const fresh = nextState(after, full, { targets, part: 'p3', full: true });
  expect(fresh.runs).toBe(1);
  expect(Object.keys(fresh.files).sort()).toEqual([a, b]);
});

it('a file that changes while the run reads it is not recorded as committed: the commit is refused', async () => {
  const d = file('d.csv', 'x\n1\n');
  const sel = await selectFiles([d], undefined, false);
  writeFileSync(d, 'x\n1\n2\n');
  expect(() => nextState(undefined, sel, { targets, part: 'p', full: false })).toThrow(`input ${d} changed (or went) while this run read it`);
});

it('refuses a state of other outputs, and one it cannot read, saying to run with --full', () => {
  const state: IncrementalState = { sluiceIncremental: 1, targets, runs: 1, files: {} };
  expect(() => refuseOtherTargets(state, targets, 'S')).not.toThrow();
  expect(() => refuseOtherTargets(state, ['/out/a'], 'S')).toThrow('the incremental state S belongs to a run writing /out/a, /out/b; this run writes /out/a');
  expect(() => refuseOtherTargets(state, ['/out/a'], 'S')).toThrow('Run with --full');

  const out = path.join(dir, 'out');
  expect(readState(out)).toBeUndefined();
  const damaged = path.join(dir, 'damaged');
  mkdirSync(damaged);
  writeFileSync(path.join(damaged, STATE_FILE), '{"sluiceIncremental": 1, "targ');
  expect(() => readState(damaged)).toThrow('is not an incremental state sluice can read (damaged?): run with --full');
  writeFileSync(path.join(damaged, STATE_FILE), '{"sluiceIncremental": 2}');
  expect(() => readState(damaged)).toThrow('written by another version?');
});

it('part ids sort in the order runs started, and differ for runs started in the same second', () => {
  const t = new Date('2026-12-07T00:05:09.123Z');
  expect(partId(t)).toMatch(/^20261207T000509Z-[0-9a-f]{8}$/);
  expect(partId(t)).not.toBe(partId(t));
  expect(partId(new Date('2026-12-06T23:59:59Z')) < partId(t)).toBe(true);
});
