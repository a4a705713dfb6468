/**
 * Several sinks committed together (commitTogether): every kind of output (one file in each
 * format, a partitioned directory in two) in every mode, in sets of two and three. Every
 * spec (kind × mode) is in one set, each set mixes kinds and modes; all 16 in one set would
 * say less when one fails. Each set: all published, read back by DuckDB (apache-arrow for
 * Arrow files); a check that throws, a prepare that fails (an I/O error after the writers
 * closed) and a real one (a target that appeared under "error-if-exists") leave the folder
 * exactly as it was: previous outputs byte for byte, no temporary, lock or journal.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commitTogether, openSinks, type Sink } from '../../../../src/io/sinks';
import { Teardown } from '../../../../src/runtime/teardown';
import { NEW_X, OLD_X, OUTPUT_KINDS, OUTPUT_MODES, batchOf, readX, sinkConfig, snapshot, writeOld, type OutputKind, type OutputMode } from '../../../helpers/sink-outputs';

const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-commit-set-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Spec {
  kind: OutputKind;
  mode: OutputMode;
}
// Appending to an existing Parquet or Arrow file is refused at open (sinks.test.ts).
const specs: Spec[] = OUTPUT_KINDS.flatMap((kind) => OUTPUT_MODES.map((mode) => ({ kind, mode }))).filter((s) => !(s.mode === 'append' && (s.kind === 'parquet' || s.kind === 'arrow')));
const SETS = 6;
const sets: Spec[][] = Array.from({ length: SETS }, () => []);
specs.forEach((s, i) => sets[i % SETS].push(s));
const label = (set: Spec[]) => set.map((s) => `${s.kind}/${s.mode}`).join(' + ');
const has = (s: Spec) => s.mode !== 'error-if-exists';

let n = 0;
/** A fresh folder with the set's previous outputs (none for "error-if-exists"). */
async function setUp(set: Spec[]): Promise<{ dir: string; targets: string[] }> {
  const dir = path.join(root, `case-${n++}`);
  const targets = set.map((s, i) => path.join(dir, `out${i}${s.kind.startsWith('dir-') ? '' : `.${s.kind}`}`));
  mkdirSync(dir);
  for (const [i, s] of set.entries()) if (has(s)) await writeOld(s.kind, targets[i]);
  return { dir, targets };
}

/**
 * As a run commits: the sinks registered in a teardown, which aborts them if the commit throws
 * (commitTogether leaves that to its caller).
 */
async function commitAsARun(sinks: Sink[], check?: Parameters<typeof commitTogether>[1]): ReturnType<typeof commitTogether> {
  const teardown = new Teardown();
  teardown.add('the sinks', { abort: async () => { for (const sink of [...sinks].reverse()) await sink.abort(); } });
  try {
    return await commitTogether(sinks, check);
  } catch (err) {
    await teardown.fail(err);
    throw teardown.error;
  }
}

async function openAndWrite(set: Spec[], targets: string[]): Promise<Sink[]> {
  const sinks = await openSinks(set.map((s, i) => sinkConfig(s.kind, targets[i], s.mode)));
  for (const sink of sinks) await sink.write(batchOf(NEW_X), { seq: 0 });
  return sinks;
}

describe.each(sets.map((set) => [label(set), set] as const))('%s', (_label, set) => {
  it('all are published', async () => {
    const { dir, targets } = await setUp(set);
    const sinks = await openAndWrite(set, targets);
    const seen: number[][] = [];
    const results = await commitAsARun(sinks, (written) => seen.push(written.map((w) => w.rows)));
    expect(seen).toEqual([set.map(() => NEW_X.length)]);
    expect(results.map((r) => r.path)).toEqual(targets);
    for (const [i, s] of set.entries()) {
      const expected = s.mode === 'append' ? [...OLD_X, ...NEW_X] : NEW_X;
      expect({ target: targets[i], x: await readX(s.kind, targets[i]) }).toEqual({ target: targets[i], x: expected });
    }
    // Only the outputs: no temporary, lock, old tree or journal beside them.
    expect(readdirSync(dir).sort()).toEqual(targets.map((t) => path.basename(t)).sort());
  });

  it('a check that throws commits nothing and leaves no temporary', async () => {
    const { dir, targets } = await setUp(set);
    const before = snapshot(dir);
    const sinks = await openAndWrite(set, targets);
    // It refuses once it sees what every sink wrote (a count that does not match, say).
    const check = (written: { rows: number }[]) => {
      if (written.length === set.length) throw new Error(`the last sink wrote ${written[set.length - 1].rows} rows: not what it was given`);
    };
    await expect(commitAsARun(sinks, check)).rejects.toThrow('the last sink wrote 3 rows');
    expect(snapshot(dir)).toEqual(before);
  });

  it('a prepare that fails (the last sink’s) commits nothing and leaves no temporary', async () => {
    const { dir, targets } = await setUp(set);
    const before = snapshot(dir);
    const sinks = await openAndWrite(set, targets);
    const last = sinks[sinks.length - 1];
    // An I/O error once the writers closed (an fsync that fails): the real prepare runs first.
    const failing: Sink = {
      write: (batch, meta) => last.write(batch, meta),
      prepare: async () => {
        await last.prepare();
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      },
      publish: (opts) => last.publish(opts),
      commit: (before) => last.commit(before),
      keep: () => last.keep(),
      release: () => last.release(),
      abort: () => last.abort(),
    };
    await expect(commitAsARun([...sinks.slice(0, -1), failing])).rejects.toThrow('EIO');
    expect(snapshot(dir)).toEqual(before);
  });
});

it('a target that appeared during the run under "error-if-exists" fails the prepare: nothing of the set is committed', async () => {
  const set: Spec[] = [
    { kind: 'dir-parquet', mode: 'overwrite' },
    { kind: 'csv', mode: 'append' },
    { kind: 'ndjson', mode: 'error-if-exists' },
  ];
  const { dir, targets } = await setUp(set);
  const before = snapshot(dir);
  const sinks = await openAndWrite(set, targets);
  writeFileSync(targets[2], 'someone else\n');
  await expect(commitAsARun(sinks)).rejects.toThrow(`${targets[2]} was created by something else during this run and sink.mode is "error-if-exists"`);
  expect(snapshot(dir)).toEqual({ ...before, [path.basename(targets[2])]: Buffer.from('someone else\n').toString('base64') });
  expect(await readX('dir-parquet', targets[0])).toEqual(OLD_X);
});

describe('openSinks: all or none', () => {
  it('a second target that cannot be locked releases the first and writes nothing', async () => {
    const set: Spec[] = [
      { kind: 'csv', mode: 'overwrite' },
      { kind: 'dir-csv', mode: 'overwrite' },
    ];
    const { dir, targets } = await setUp(set);
    const holder = await openSinks([sinkConfig('dir-csv', targets[1], 'overwrite')]);
    const before = snapshot(dir);
    await expect(openSinks(set.map((s, i) => sinkConfig(s.kind, targets[i], s.mode)))).rejects.toThrow(`${targets[1]} is being written by pid ${process.pid}`);
    // Nothing new beside the first target: its lock was released, no temporary was made.
    expect(snapshot(dir)).toEqual(before);
    await holder[0].abort();
    const again = await openSinks([sinkConfig('csv', targets[0], 'overwrite')]);
    await again[0].abort();
  });

  it('a failure to open the second sink (its mode) releases the first', async () => {
    const set: Spec[] = [
      { kind: 'csv', mode: 'overwrite' },
      { kind: 'ndjson', mode: 'overwrite' },
    ];
    const { dir, targets } = await setUp(set);
    const before = snapshot(dir);
    await expect(openSinks([sinkConfig('csv', targets[0], 'overwrite'), sinkConfig('ndjson', targets[1], 'error-if-exists')])).rejects.toThrow('already exists and sink.mode is "error-if-exists"');
    expect(snapshot(dir)).toEqual(before);
  });

  it('two sinks on one path are refused before anything is locked', async () => {
    const target = path.join(root, 'same.csv');
    await expect(openSinks([sinkConfig('csv', target, 'overwrite'), sinkConfig('csv', target, 'overwrite')])).rejects.toThrow(`two sinks write ${target}`);
  });
});
