/**
 * `kill -9` at each step of a commit of two outputs (a Parquet file and a partitioned CSV
 * directory, both with previous outputs): stopped there by SLUICE_TEST_STOP_AT (SIGSTOP),
 * then SIGKILLed. Recovered three ways (the next run opening both targets, a run opening only
 * the directory, `sluice recover` on a config naming only the file): all old outputs or all
 * new ones, read back by DuckDB; no temporary, lock or journal left. Before the journal the
 * commit is undone; from the journal on it is finished.
 *
 * The kill is of a process of its own (the fixture); `sluice recover` runs through the CLI at
 * one step (between the renames, where the file is new and the directory still old), and at
 * the others as the function that command calls (src/cli/recover.ts recoverCommand; the CLI
 * adds printing its lines and exit 0): a CLI child costs about a second of CPU before it reads
 * a file, and the recovery is the same code.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openSinks } from '../../src/io/sinks';
import { loaderExecArgv } from '../../src/loader';
import { recoverCommand } from '../../src/cli/recover';
import { REPO, runCli } from '../helpers/cli';
import { killWhenStopped } from '../helpers/processes';
import { NEW_X, OLD_X, readX, sinkConfig, writeOld } from '../helpers/sink-outputs';
import { workspace } from '../helpers/workspace';

const FIXTURE = path.resolve(__dirname, '../fixtures/sinks/commit-two.cjs');
const ws = workspace('sluice-commit-crash-');
afterAll(() => ws.cleanup());

const STEPS = ['before-journal', 'after-journal', 'between-renames', 'after-renames'] as const;
const RECOVERIES = ['next run on both', 'next run on the directory only', 'sluice recover (config names the file only)'] as const;

/**
 * The fixture's command: on the built sluice while dist/ is current (the same code; ~1 CPU-s
 * less a start than the TS loader compiling src/), else on src/ through the TS loader.
 */
const BUILT = process.env.SLUICE_TEST_BUILT_COPIES;
const fixture = (file: string, dir: string) => (BUILT ? [FIXTURE, BUILT, file, dir] : [...loaderExecArgv(), FIXTURE, path.join(REPO, 'src'), file, dir]);

/** Run the fixture until it stops at `step`, then SIGKILL it. */
async function killAt(step: string, file: string, dir: string): Promise<void> {
  const child = spawn(process.execPath, fixture(file, dir), { env: { ...process.env, SLUICE_TEST_STOP_AT: step }, stdio: ['ignore', 'ignore', 'pipe'] });
  expect(await killWhenStopped(child, `at ${step}`, 40_000)).toBe('SIGKILL');
}

let n = 0;
describe.each(STEPS.map((s) => [s]))('killed at %s', (step) => {
  const expected = step === 'before-journal' ? OLD_X : NEW_X;
  it.each(RECOVERIES.map((r) => [r]))(`recovered by the %s: all ${step === 'before-journal' ? 'old' : 'new'} outputs`, async (recovery) => {
    const out = path.join(ws.dir, `case-${n++}`);
    mkdirSync(out);
    const file = path.join(out, 'totals.parquet');
    const dir = path.join(out, 'events');
    await writeOld('parquet', file);
    await writeOld('dir-csv', dir);
    await killAt(step, file, dir);
    if (step === 'between-renames') {
      // The window is real: the file is new, the directory still old.
      expect(await readX('parquet', file)).toEqual(NEW_X);
      expect(await readX('dir-csv', dir)).toEqual(OLD_X);
    }
    if (recovery === 'sluice recover (config names the file only)') {
      const cfg = ws.config({ name: 'crashed', source: { format: 'csv', path: 'nowhere/*.csv' }, stages: [], sink: { format: 'parquet', path: file } }, `recover-${n}.config.ts`);
      let said: string;
      if (step === 'between-renames') {
        const r = await runCli(['recover', cfg]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        said = r.stdout;
      } else said = (await recoverCommand({ config: cfg })).join('\n');
      expect(said).toMatch(/^✔ /);
      if (step !== 'before-journal') expect(said).toContain(`finished the commit of a run (pid`);
    } else {
      const cfgs = recovery === 'next run on both' ? [sinkConfig('parquet', file, 'overwrite'), sinkConfig('dir-csv', dir, 'overwrite')] : [sinkConfig('dir-csv', dir, 'overwrite')];
      const sinks = await openSinks(cfgs);
      for (const sink of sinks) await sink.abort();
    }
    // An undecided commit's temporaries beside the file, when only the directory was opened,
    // are the next run on the file's to remove; every other case leaves only the outputs.
    expect({ file: await readX('parquet', file), dir: await readX('dir-csv', dir) }).toEqual({ file: expected, dir: expected });
    const left = readdirSync(out).sort();
    if (step === 'before-journal' && recovery !== 'next run on both') expect(left.filter((f) => !f.startsWith('.'))).toEqual(['events', 'totals.parquet']);
    else expect(left).toEqual(['events', 'totals.parquet']);
    expect(existsSync(path.join(dir, '_SUCCESS')) || step === 'before-journal').toBe(true);
    rmSync(out, { recursive: true, force: true });
  });
});
