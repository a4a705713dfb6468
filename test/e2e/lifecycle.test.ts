/**
 * A run ends loud whatever way its stage fails outside the promise the engine awaits, a
 * signal during start-up stops it before it replaces anything, and `kill -9` of the
 * command's pid ends every process of the run at once (nothing commits afterwards).
 *
 * Those about the process (its exit code, signals, a stage that ends or hangs the process it
 * runs in, the death watch) run as a process of their own; they are independent, so every one
 * but the kill -9 (which counts the processes of its run) is started in beforeAll, two at a time
 * (test/helpers/started.ts), and each test asserts on its own. A thread or process stage's
 * failure ends its worker, not the run's process, and an inline stage's thrown cyclic object
 * is an ordinary rejection: those run in this process, as the CLI maps them
 * (test/helpers/run-as-cli.ts). `run()` from code runs in a node child through the built
 * package when dist/ is current (as a user's script gets it), not through the TS loader over src/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, REPO, runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';
import { descendants } from '../helpers/processes';
import { fairTimeout, waitFor } from '../helpers/fair-clock';
import { builtIsCurrent } from '../helpers/package';
import { Started } from '../helpers/started';
import { runAsCli } from '../helpers/run-as-cli';

let ws: Workspace;
/** What each test asserts on: a process's exit code and output. */
type Ended = { code: number | null; signal?: NodeJS.Signals | null; stdout: string; stderr: string };
const runs = new Started<Ended>(2);
/** Declared beside its test, in the order of the tests; each makes its config when it starts. */
const launch = (key: string, work: () => Promise<Ended>) => runs.declare(key, work);
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 1000);
  runs.startAll();
});
afterAll(async () => {
  await runs.settled();
  ws.cleanup();
});

const leftovers = (name: string) => ws.outFiles().filter((f) => f.includes(name));
/** The heap limit of the run that runs out of it; the runs that end by themselves beside it (its control) have it too. */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=192' };

describe.each([
  ['hang', /nothing is left to wait on, but stage "guarded" \(inline\) on batch #3 never settled/],
  ['reject', /stage "guarded", copy 0, batch #3, .* failed in process\(\): deliberate unhandled rejection \(a promise rejection nobody handled\)/],
  ['timer', /stage "guarded", copy 0, batch #3, .* failed in process\(\): deliberate error from a timer \(an error thrown outside any task\)/],
  ['exit0', /stage "guarded", copy 0, batch #3, .* the stage called process\.exit\(0\)/],
  ['undef', /stage "guarded", copy 0, batch #3, .* undefined was thrown/],
  ['cyclic', /stage "guarded", copy 0, batch #3, .* a non-Error value was thrown: .*deliberate: 'cyclic'.*Circular/],
])('an inline stage that fails by %s (source thread on, CSV sink)', (how, message) => {
  const name = `guard-${how}`;
  const reportFile = () => path.join(ws.dir, `${name}.report.json`);
  // A cyclic object thrown is an ordinary failure of run(): in this process, inside its test
  // (test/helpers/run-as-cli.ts); the others end or hang the process they run in, or (undef)
  // are the death watch's control, so they are CLI runs.
  const viaCli = how !== 'cyclic';
  const config = () =>
    ws.config(
      {
        name,
        source: { format: 'csv', path: 'in.csv', batchRows: 100, thread: true },
        stages: [{ name: 'guarded', module: path.join(FIXTURE_STAGES, 'guard-fail.ts'), mode: 'inline', options: { at: 3, how } }],
        sink: { format: 'csv', path: `out/${name}.csv` },
      },
      `${name}.config.ts`,
    );
  // undef: also the death watch's control for a run that fails by itself (see the heap test).
  if (viaCli) launch(name, () => runCli(['run', config(), '--quiet', '--report', reportFile()], { timeoutMs: 30_000, ...(how === 'undef' && { env: SMALL_HEAP }) }));
  it('exits 1 with the stage and batch named, a failed report, and nothing left', async () => {
    if (viaCli) {
      const r = await runs.get(name);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(JSON.parse(readFileSync(reportFile(), 'utf8'))).toMatchObject({ ok: false, error: { message: expect.stringMatching(message) } });
    } else {
      const r = await runAsCli(config());
      expect(r.code).toBe(1);
      expect(r.said).toMatch(message);
      expect(r.report).toMatchObject({ ok: false, error: { message: expect.stringMatching(message) } });
    }
    expect(leftovers(name)).toEqual([]);
  });
});

// Seen once in a loaded full run: a stage's timer error and the commit raced, and the run
// exited 0. The run lets due timers fire before it commits, and checks again before the rename.
launch('late-timer', () => {
  const name = 'late-timer';
  const cfg = ws.config(
    {
      name,
      source: { format: 'csv', path: 'in.csv', batchRows: 100, thread: true },
      stages: [{ name: 'late', module: path.join(FIXTURE_STAGES, 'late-timer.ts'), mode: 'inline' }],
      sink: { format: 'csv', path: `out/${name}.csv` },
    },
    `${name}.config.ts`,
  );
  return runCli(['run', cfg, '--quiet'], { timeoutMs: 30_000 });
});
it('an inline stage whose flush sets a throwing timer fails the run, and nothing is published', async () => {
  const name = 'late-timer';
  const r = await runs.get(name);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/stage "late".* deliberate error from a timer set in flush/);
  expect(leftovers(name)).toEqual([]);
});

// A thread or process stage's failure ends its worker, never the run's own process: these run
// in this process (test/helpers/run-as-cli.ts: the CLI's exit code and message mapping), each
// inside its test (an in-process run loads its config through jest's require), where a CLI
// child each cost ~0.5 CPU-s of start-up that these assertions do not look at. Except the
// thread's timer error: in a jest worker the thread's Error is of another realm than the
// engine's (it reads "a non-Error value was thrown"), so that one stays a CLI run.
describe.each([
  ['thread', 'timer', { how: 'timer', hold: true }, /^stage "guarded", copy 0, batch #3, .* failed in process\(\): deliberate error from a timer \(an error thrown outside any task; it ended the worker thread\)/],
  ['process', 'timer', { how: 'timer', hold: true }, /^stage "guarded", copy 0, batch #3, .*: worker exited with code 1: [\s\S]*Error: deliberate error from a timer/],
  ['thread', 'fake', { how: 'fake' }, /^stage "guarded", copy 0, batch #3, .* failed in process\(\): a stage must return a RecordBatch, .* \(got Object\)/],
  ['process', 'fake', { how: 'fake' }, /^stage "guarded", copy 0, batch #3, .* failed in process\(\): a stage must return a RecordBatch, .* \(got Object\)/],
  // once, not wrapped twice (the child's StageError used to be wrapped again by main): the
  // message the CLI prints after `sluice: ` starts with the stage, once
  ['process', 'undef', { how: 'undef' }, /^stage "guarded", copy 0, batch #3, [^\n]* failed in process\(\): undefined was thrown/],
  ['thread', 'options', { how: 'none', hash: { fn: '__FN__' } }, /✖ stages\[0\]\.options\.hash\.fn: a function cannot be passed to a thread stage/],
  ['process', 'options', { how: 'none', hash: { fn: '__FN__' } }, /✖ stages\[0\]\.options\.hash\.fn: a function cannot be passed to a process stage/],
])('a %s stage that fails by %s', (mode, how, options, message) => {
  const name = `msg-${mode}-${how}`;
  const viaCli = mode === 'thread' && how === 'timer';
  const config = () => {
    const file = ws.config(
      {
        name,
        source: { format: 'csv', path: 'in.csv', batchRows: 100 },
        stages: [{ name: 'guarded', module: path.join(FIXTURE_STAGES, 'guard-fail.ts'), mode, options: { at: 3, ...options } }],
        sink: { format: 'parquet', path: `out/${name}.parquet` },
      },
      `${name}.config.ts`,
    );
    // A function in options cannot be written as JSON: put it in the config's source text.
    writeFileSync(file, readFileSync(file, 'utf8').replace('"__FN__"', '() => 1'));
    return file;
  };
  if (viaCli) launch(name, () => runCli(['run', config(), '--quiet'], { timeoutMs: 30_000 }));
  it('exits 1 naming the culprit, with nothing left', async () => {
    // The CLI prints `sluice: <the message>` after its log lines; in process, the message is the error's.
    const r = viaCli ? await runs.get(name).then((c) => ({ code: c.code, said: c.stderr.replace(/^[\s\S]*?^sluice: /m, '') })) : await runAsCli(config());
    expect(r.code).toBe(1);
    expect(r.said).toMatch(message);
    expect(r.said).not.toMatch(/failed in process\(\): stage "guarded"/);
    expect(leftovers(name)).toEqual([]);
  });
});

{
  const cfg = (name: string, how: string) =>
    ws.config(
      {
        name,
        params: { tag: 'nightly' },
        source: { format: 'csv', path: 'in.csv', batchRows: 100 },
        stages: [{ name: 'guarded', module: path.join(FIXTURE_STAGES, 'guard-fail.ts'), mode: 'inline', options: { at: 3, how } }],
        sink: { format: 'csv', path: `out/${name}.csv` },
      },
      `${name}.config.ts`,
    );
  const env = SMALL_HEAP;
  launch('oom', () => runCli(['run', cfg('oom', 'oom'), '--quiet', '--report', path.join(ws.dir, 'oom.report.json'), '--set', 'tag=tonight'], { timeoutMs: 60_000, env }));
  // A run that ends by itself, well or not, gets no such word: this one well, guard-undef's
  // (the same heap limit, an inline stage that throws at batch #3) not.
  launch('watch-none', () => runCli(['run', cfg('watch-none', 'none'), '--quiet'], { env }));
}
it('an inline stage that runs the heap out is named (the watcher speaks for a process that died where JavaScript cannot)', async () => {
  const reportFile = path.join(ws.dir, 'oom.report.json');
  const r = await runs.get('oom');
  expect(r.signal ?? r.code).not.toBe(0);
  expect(r.stderr).toMatch(/heap out of memory/);
  expect(r.stderr).toMatch(/sluice: the run \(pid \d+\) died without a word: .* it was running stage "guarded" \(inline\) in process\(\) on batch #3 from .*in\.csv\. Nothing was committed/);
  expect(existsSync(path.join(ws.dir, 'out', 'oom.csv'))).toBe(false);
  // --report still gets a failed report, from the watcher
  expect(JSON.parse(readFileSync(reportFile, 'utf8'))).toEqual({
    pipeline: 'oom',
    ok: false,
    params: { tag: 'tonight' },
    error: { code: 'SLUICE_RUN_DIED', message: expect.stringMatching(/it was running stage "guarded" \(inline\) in process\(\) on batch #3/) },
  });
  // A run that ends by itself, well or not, gets no such word.
  for (const key of ['watch-none', 'guard-undef']) {
    const ended = await runs.get(key);
    expect(ended.stderr).not.toMatch(/died without a word/);
  }
  expect((await runs.get('watch-none')).code).toBe(0);
});

launch('api-hang', () => {
  const cfg = ws.config(
    {
      name: 'api-hang',
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [{ name: 'guarded', module: path.join(FIXTURE_STAGES, 'guard-fail.ts'), mode: 'inline', options: { at: 1, how: 'hang' } }],
      sink: { format: 'ndjson', path: 'out/api-hang.ndjson' },
    },
    'api-hang.config.ts',
  );
  const script = path.join(ws.dir, 'api-hang.ts');
  writeFileSync(
    script,
    `import { run } from 'sluice';\nrun(${JSON.stringify(cfg)}, { log: undefined }).then(() => console.log('RESOLVED'), (e) => console.log('REJECTED ' + e.code));\n`,
  );
  // The built package when dist/ is current: from src/ the engine loads through the TS loader, seconds of CPU.
  const register = path.join(REPO, builtIsCurrent() ? 'dist' : 'src', 'register.mjs');
  const child = spawn(process.execPath, ['--import', register, script], { cwd: ws.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child, 30_000);
});
it('run() rejects (never hangs, never resolves) when an inline stage never settles', async () => {
  const out = await runs.get('api-hang');
  expect(out.stdout.trim()).toBe('REJECTED SLUICE_STALLED');
  expect(leftovers('api-hang')).toEqual([]);
});

describe.each([
  ['SIGTERM', 143],
  ['SIGHUP', 129],
  ['SIGINT', 130],
] as const)('%s during start-up (a stage setup still running)', (signal, code) => {
  const name = `startup-${signal}`;
  const target = () => path.join(ws.dir, 'out', `${name}.csv`);
  launch(name, async () => {
    const cfg = ws.config(
      {
        name,
        source: { format: 'csv', path: 'in.csv', batchRows: 100 },
        stages: [{ name: 'slow-setup', module: path.join(FIXTURE_STAGES, 'guard-fail.ts'), mode: 'inline', options: { setup: 'slow' } }],
        sink: { format: 'csv', path: `out/${name}.csv` },
      },
      `${name}.config.ts`,
    );
    // A previous night's output, which a stopped run must not replace.
    mkdirSync(path.dirname(target()), { recursive: true });
    writeFileSync(target(), 'previous\n');
    const child = spawn(BIN, ['run', cfg, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Collecting from the start (a limit on the fair-share clock), so a run that never says it waits fails instead of hanging.
    const out = collect(child, 30_000);
    await Promise.race([untilStderr(child, /setup waiting/), out]);
    child.kill(signal);
    return out;
  });
  it(`exits ${code} and leaves the previous output as it was`, async () => {
    const out = await runs.get(name);
    expect(out.code).toBe(code);
    expect(out.stderr).toMatch(new RegExp(`run aborted: ${signal}`));
    expect(readFileSync(target(), 'utf8')).toBe('previous\n');
    expect(leftovers(name)).toEqual([`${name}.csv`]);
  });
});

it('kill -9 of the sluice pid leaves no process of the run a second later, and nothing is committed', async () => {
  const name = 'killed';
  const cfg = ws.config(
    {
      name,
      source: { format: 'csv', path: 'in.csv', batchRows: 10 },
      stages: [
        { name: 'a', module: path.join(FIXTURE_STAGES, 'e2e-slow.ts'), mode: 'inline', options: { ms: 2 } },
        { name: 'b', module: path.join(FIXTURE_STAGES, 'e2e-slow.ts'), mode: 'thread', options: { ms: 5 } },
        { name: 'c', module: path.join(FIXTURE_STAGES, 'e2e-slow.ts'), mode: 'process', concurrency: 2, options: { ms: 20 } },
      ],
      sink: { format: 'parquet', path: `out/${name}.parquet` },
    },
    `${name}.config.ts`,
  );
  const child = spawn(BIN, ['run', cfg, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  await untilStderr(child, /"run started"/);
  const family = descendants(child.pid!);
  expect(family.length).toBeGreaterThanOrEqual(2); // the two children of stage "c" at least
  process.kill(child.pid!, 'SIGKILL');
  // Gone within a second of a fair share of the CPU (test/helpers/fair-clock.cjs).
  let alive = [child.pid!, ...family];
  await waitFor(() => (alive = alive.filter(isAlive)).length === 0, 'the run and its children to end', 1000).catch(() => undefined);
  expect(alive).toEqual([]);
  expect(existsSync(path.join(ws.dir, 'out', `${name}.parquet`))).toBe(false);
});


function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z'; // a zombie has ended; only its exit status is left to collect
  } catch {
    return false;
  }
}

function untilStderr(child: ChildProcess, pattern: RegExp): Promise<void> {
  let text = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      text += d;
      if (pattern.test(text)) resolve();
    });
    child.on('close', () => reject(new Error(`exited before ${pattern}:\n${text}`)));
  });
}

function collect(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    // A hang limit on the fair-share clock (test/helpers/fair-clock.cjs): a wall-clock one kills
    // a healthy run on a loaded machine.
    const cancel = fairTimeout(timeoutMs, () => {
      child.kill('SIGKILL');
      reject(new Error(`hang: no exit within ${timeoutMs} ms of a fair share of the CPU\n${stderr}`));
    });
    child.on('close', (code) => {
      cancel();
      resolve({ code, stdout, stderr });
    });
  });
}
