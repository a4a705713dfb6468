/**
 * supervisor/death.ts is the one mapping from a copy's death to the run's error, whatever
 * the copy (a stage's thread or child, the source thread, a Parquet encoder thread) and
 * however it died: each row of this table is one way, and each error names stage, copy and
 * batch. The executors, the source and the encoder pool all go through it (their own tests
 * check that they do: thread-executor, process, fatal-before-listen, sources/thread).
 */
import { StageError, WorkerExitError } from '../../../src/errors';
import { CopyTimeoutError, deathError } from '../../../src/supervisor/death';
import { CopyDiedError, type CopyExit } from '../../../src/supervisor/types';

const at = { stage: 'clean', copy: 1, seq: 5, sourceFile: 'in.csv' };
const named = 'stage "clean", copy 1, batch #5, from in.csv';

const table: [string, CopyExit | CopyDiedError, typeof StageError | typeof WorkerExitError, RegExp][] = [
  ['a thread that exits (process.exit in a task)', { exitCode: 7, signal: null }, WorkerExitError, /: worker exited with code 7$/],
  ['a thread ended by an uncaught error', { exitCode: 1, signal: null, error: new Error('boom') }, StageError, /failed in process\(\): boom \(an error thrown outside any task; it ended the worker thread\)/],
  ['a child that exits with a code', new CopyDiedError({ exitCode: 3, signal: null }, '\n  Error: last stderr line'), WorkerExitError, /: worker exited with code 3: \n {2}Error: last stderr line$/],
  ['a child killed by a signal', { exitCode: null, signal: 'SIGSEGV' }, WorkerExitError, /: worker was killed by SIGSEGV$/],
  ['a child the kernel killed for memory (OOM: SIGKILL)', new CopyDiedError({ exitCode: null, signal: 'SIGKILL' }), WorkerExitError, /: worker was killed by SIGKILL$/],
  ['a copy the watchdog killed', new CopyTimeoutError(2000, 5), StageError, /failed in process\(\): no answer within its timeout of 2 s \(the copy was killed\)/],
];

it.each(table)('%s: one error, naming stage, copy and batch', (_, death, type, message) => {
  const err = deathError(death, at, 'process');
  expect(err).toBeInstanceOf(type);
  expect(err.message.startsWith(named)).toBe(true);
  expect(err.message).toMatch(message);
});

it("a copy killed with another batch's timeout names that batch (whichever of its requests reaches the run first)", () => {
  const err = deathError(new CopyTimeoutError(500, 9), at, 'process');
  expect(err.message).toMatch(/^stage "clean", copy 1, batch #9, from in.csv failed in process\(\): no answer within its timeout of 500 ms/);
});

it('says the attempts, why the copy was not replaced, and what the copy is when it is not a stage\'s own', () => {
  expect(deathError({ exitCode: null, signal: 'SIGKILL' }, at, 'process', { attempts: 3 }).message).toBe(`${named}: worker was killed by SIGKILL: after 3 attempts`);
  expect(deathError({ exitCode: 2, signal: null }, at, 'process', { attempts: 1, unreplaceable: 'it has flush()' }).message).toBe(`${named}: worker exited with code 2: it has flush()`);
  const encoder = deathError({ exitCode: 1, signal: null }, { stage: 'parquet-encode', copy: 0, seq: 12 }, 'process', { copyName: 'the Parquet encoder thread 0', unreplaceable: "sluice's own thread, not replaced" });
  expect(encoder.message).toBe(`stage "parquet-encode", copy 0, batch #12: worker exited with code 1: the Parquet encoder thread 0; sluice's own thread, not replaced`);
});
