/**
 * The unit/commit protocol without a run (io/units): the manifest decides what is done (a torn
 * last line is no line); a unit is recorded only once every sink staged it; what a dead attempt
 * left unrecorded (its `_temporary/` directory, a unit file renamed but not recorded) is removed
 * by the next attempt and its units redone; a sink's recovery of dead runs' temporaries keeps
 * a resumable run's staging; staged files are never inputs.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { isSluiceSibling } from '../../../../src/inputs';
import { openSinks } from '../../../../src/io/sinks';
import { readManifest } from '../../../../src/io/units/manifest';
import { UnitRun, stagingDirOf } from '../../../../src/io/units/units';
import { workspace } from '../../../helpers/workspace';

const ws = workspace('sluice-units-');
afterAll(() => ws.cleanup());

let n = 0;
function fixture(files = 4): { dir: string; inputs: string[]; targets: string[] } {
  const dir = path.join(ws.dir, `case-${n++}`);
  mkdirSync(dir);
  const inputs = Array.from({ length: files }, (_, i) => {
    const f = path.join(dir, `in${i}.csv`);
    writeFileSync(f, `x\n${i}\n`);
    return f;
  });
  return { dir, inputs, targets: [path.join(dir, 'a.csv'), path.join(dir, 'b.csv')] };
}

const batch = (x: number) => tableFromArrays({ x: Float64Array.of(x) }).batches[0];
const open = (f: ReturnType<typeof fixture>, mode: 'fresh' | 'resume' | 'restart') => UnitRun.open({ targets: f.targets, files: f.inputs, fingerprint: { config: 'c', stages: { s: 'h' } }, mode });
const xs = (run: UnitRun, k: number) => [...run.replay(k)].map((b) => Number(b.getChild('x')!.get(0)));

describe('units', () => {
  it('a unit is recorded once every sink has passed it, and a torn last manifest line is no line', async () => {
    const f = fixture();
    const run = open(f, 'fresh');
    run.write(0, batch(0), f.inputs[0]);
    run.write(0, batch(1), f.inputs[1]); // sink 0 passed unit 0; sink 1 has not
    await run.idle();
    expect(readManifest(run.manifestFile).units.size).toBe(0);
    run.write(1, batch(10), f.inputs[2]); // sink 1 had nothing of units 0 and 1: now both passed by sink 1, unit 0 by sink 0
    await run.idle();
    expect([...readManifest(run.manifestFile).units.keys()]).toEqual([0]);
    appendFileSync(run.manifestFile, '{"type":"unit","unit":1,"fi'); // a kill mid-append
    expect([...readManifest(run.manifestFile).units.keys()]).toEqual([0]);
  });

  it('a sink after a stateful stage (unstaged: the run writes it itself) holds no unit back: units are recorded as the staged streams pass them, not at the end', async () => {
    const f = fixture();
    // Sink 0 is written by the run (after an aggregate); sink 1 and the cut (stream 2) are staged.
    const run = UnitRun.open({ targets: f.targets, files: f.inputs, fingerprint: { config: 'c', stages: { s: 'h' } }, mode: 'fresh', cuts: 1, unstaged: [0] });
    for (let i = 0; i < 3; i++) {
      run.write(1, batch(10 + i), f.inputs[i]);
      run.write(2, batch(20 + i), f.inputs[i]);
    }
    await run.idle();
    // Units 0 and 1 passed by both staged streams: recorded mid-run, so a kill now keeps them.
    expect([...readManifest(run.manifestFile).units.keys()]).toEqual([0, 1]);
    expect(readManifest(run.manifestFile).units.get(0)!.sinks[0]).toBeNull();
    expect(() => run.write(0, batch(0), f.inputs[0])).toThrow(/stream 0 is a sink after a stateful stage/);
    await run.finishUnits();
    expect(xs(run, 2)).toEqual([20, 21, 22]);
    await run.abort();
  });

  it('a resumed attempt keeps the recorded units, drops the rest (renamed or not), and replays all in input order', async () => {
    const f = fixture();
    const first = open(f, 'fresh');
    for (let i = 0; i < 3; i++) {
      first.write(0, batch(i), f.inputs[i]);
      first.write(1, batch(10 + i), f.inputs[i]);
    }
    // Unit 2 is being written; unit 1 is staged by both sinks: recorded. Unit 2's file of a dead attempt:
    await first.idle();
    expect([...readManifest(first.manifestFile).units.keys()]).toEqual([0, 1]);
    const sinkDir = path.join(stagingDirOf(f.targets[0]), first.runId);
    expect(readdirSync(path.join(sinkDir, '_temporary')).length).toBe(1);
    // A unit file renamed into place but never recorded (killed between the rename and the manifest):
    writeFileSync(path.join(sinkDir, 'units', 'u000002.frames'), 'torn');
    await first.abort();

    expect(() => open(f, 'fresh')).toThrow(/stopped with 2 of 4 units committed .*--resume to continue it, or --restart to discard them/);
    const second = open(f, 'resume');
    expect([...second.done]).toEqual([0, 1]);
    expect(second.todo).toEqual(f.inputs.slice(2));
    expect(existsSync(path.join(sinkDir, '_temporary'))).toBe(false);
    expect(readdirSync(path.join(sinkDir, 'units')).sort()).toEqual(['u000000.frames', 'u000001.frames']);
    second.write(0, batch(2), f.inputs[2]);
    second.write(0, batch(3), f.inputs[3]);
    second.write(1, batch(13), f.inputs[3]);
    await second.finishUnits();
    expect(xs(second, 0)).toEqual([0, 1, 2, 3]);
    expect(xs(second, 1)).toEqual([10, 11, 13]);
    expect(second.report()).toEqual({ runId: second.runId, total: 4, reused: f.inputs.slice(0, 2), read: f.inputs.slice(2) });
    await second.committed();
    expect(existsSync(stagingDirOf(f.targets[0]))).toBe(false);
    expect(existsSync(stagingDirOf(f.targets[1]))).toBe(false);
  });

  /** A fresh run that recorded unit 0 (every sink passed into unit 1), then stopped mid-unit. */
  const stoppedAfterFirstUnit = async (f: ReturnType<typeof fixture>) => {
    const run = open(f, 'fresh');
    run.write(0, batch(0), f.inputs[0]);
    run.write(1, batch(0), f.inputs[1]);
    run.write(0, batch(0), f.inputs[1]);
    await run.abort();
    return run;
  };

  it('a resume refuses a changed config, stage module or input list, naming each', async () => {
    const f = fixture();
    await stoppedAfterFirstUnit(f);
    writeFileSync(path.join(f.dir, 'in9.csv'), 'x\n9\n');
    const files = [...f.inputs.slice(1), path.join(f.dir, 'in9.csv')];
    expect(() => UnitRun.open({ targets: f.targets, files, fingerprint: { config: 'c2', stages: { s: 'h2' } }, mode: 'resume' })).toThrow(
      new RegExp(`cannot resume: .*the config .* changed; the module of stage "s" changed; input ${f.dir}/in9.csv is new; input ${f.dir}/in0.csv is gone.*--restart`),
    );
    expect(open(f, 'restart').done.size).toBe(0);
  });

  it('recovering a target keeps a resumable run\'s staging beside it; staged files are never inputs', async () => {
    const f = fixture();
    const run = await stoppedAfterFirstUnit(f);
    const before = readdirSync(path.join(stagingDirOf(f.targets[0]), run.runId, 'units'));
    const sinks = await openSinks(f.targets.map((p) => ({ format: 'csv' as const, path: p })));
    for (const s of sinks) await s.abort();
    expect(readdirSync(path.join(stagingDirOf(f.targets[0]), run.runId, 'units'))).toEqual(before);
    expect(readManifest(run.manifestFile).units.size).toBe(1);
    expect(isSluiceSibling(path.join(stagingDirOf(f.targets[0]), run.runId, 'units', 'u000000.frames'))).toBe(true);
  });
});
