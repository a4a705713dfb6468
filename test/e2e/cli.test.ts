/**
 * The CLI as users meet it: config errors with paths, configs outside the repo, explain, worker logs.
 * A CLI child costs ~1 s of CPU before it prints a line, so where one run can answer several
 * questions it does: `validate` of the config with every issue serves both tests that compare
 * with it; one run with a thread and a process stage serves the worker-log test of both modes
 * and the malloc defaults (MALLOC_ARENA_MAX, huge pages); one run with both variables set by
 * the user serves the "unless the user set it" side of both.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 300);
});
afterAll(() => ws.cleanup());

const base = (over: Record<string, unknown> = {}) => ({
  name: 'cli',
  source: { format: 'csv', path: 'in.csv', batchRows: 100 },
  stages: [{ name: 'logger', module: path.join(FIXTURE_STAGES, 'e2e-log.ts'), mode: 'inline' }],
  sink: { format: 'csv', path: 'out/cli.csv' },
  ...over,
});

const issueLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('  ✖'));

describe('sluice validate', () => {
  it('reports each config error with its path and exits 1', async () => {
    const cfg = ws.config(
      base({
        source: { format: 'csv', path: 'missing-*.csv' },
        stages: [
          { name: 'a', module: './nope.ts', mode: 'threads' },
          { name: 'b', module: path.join(FIXTURE_STAGES, 'e2e-log.ts'), mode: 'thread', concurrency: 0 },
        ],
      }),
      'bad.config.ts',
    );
    const r = await runCli(['validate', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stages[0].mode: must be one of inline, thread, process, got "threads"');
    expect(r.stderr).toContain('stages[1].concurrency: must be an integer >= 1, got 0');
    // in the same pass: files are checked whatever the shape
    expect(r.stderr).toContain('source.path: no file matches "missing-*.csv"');
    expect(r.stderr).toContain(`stages[0].module: file not found: ${path.join(ws.dir, 'nope.ts')}`);
  });

  // One config, every kind of issue: validate lists them all, run fails before it starts with the same list.
  const everything = () =>
    ws.config(
      base({
        stages: [
          { name: 'a', module: path.join(FIXTURE_STAGES, 'e2e-log.ts'), mode: 'inline', concurrency: 0, keepsColumns: true },
          { name: 'a', module: './nope.ts', mode: 'thread', keepsColumns: true },
          { name: 'c', module: path.join(FIXTURE_STAGES, 'no-default.ts'), mode: 'thread', keepsColumns: true },
        ],
        sink: { format: 'csv', path: 'out/everything', partitionBy: ['dy'] },
      }),
      'everything.config.ts',
    );
  const allIssues = () => [
    '  ✖ stages[0].concurrency: must be an integer >= 1, got 0',
    '  ✖ stages[1].name: duplicate stage name "a" (also stages[0]); names must be unique',
    `  ✖ stages[1].module: file not found: ${path.join(ws.dir, 'nope.ts')}`,
    `  ✖ stages[2].module: ${path.join(FIXTURE_STAGES, 'no-default.ts')} has no default export; write \`export default defineStage({ process(batch, ctx) { … } })\``,
    `  ✖ sink.partitionBy[0]: column "dy" is not in the source (columns: id, name, x, day; did you mean "day"?); read from ${path.join(ws.dir, 'in.csv')}`,
  ];

  /** `sluice validate` of that config, once (two tests read it). */
  let validated: ReturnType<typeof runCli> | undefined;
  const validateEverything = () => (validated ??= runCli(['validate', everything()]));

  it('lists every issue in one pass and exits 1', async () => {
    const r = await validateEverything();
    expect(r.code).toBe(1);
    const lines = issueLines(r.stderr);
    expect(lines).toHaveLength(allIssues().length);
    allIssues().forEach((issue, i) => expect(lines[i]).toContain(issue));
  });

  it('run fails fast with the same issues: nothing started, nothing written', async () => {
    const validate = await validateEverything();
    const r = await runCli(['run', everything(), '--report', path.join(ws.dir, 'everything.json')]);
    expect(r.code).toBe(1);
    const lines = issueLines(r.stderr);
    expect(lines).toEqual(issueLines(validate.stderr));
    expect(lines).toHaveLength(allIssues().length);
    allIssues().forEach((issue, i) => expect(lines[i]).toContain(issue));
    expect(r.stderr).not.toContain('run started');
    expect(existsSync(path.join(ws.dir, 'out/everything'))).toBe(false);
  });

  describe('a stage with flush() at 2 copies', () => {
    const stateful = (concurrency: number) =>
      ws.config(base({ stages: [{ name: 'aggregate', module: path.join(FIXTURE_STAGES, 'e2e-count.ts'), mode: 'thread', concurrency }] }), `stateful-${concurrency}.config.ts`);
    const refusal =
      '  ✖ stages[0].concurrency: stage "aggregate" has flush() (it keeps state across batches); with 2 copies each copy would flush its own partial result. ' +
      'Use concurrency: 1, give it key: [columns] in its config entry so that every row of a key goes to one copy (a per-key aggregate), give it a combine(partials) that merges the copies’ results, or declare perCopyFlush: true in its defineStage({ … }) if each copy’s output is complete on its own';

    it.each([
      ['validate', 'config', []],
      ['explain', 'config', []],
      ['run', 'config', ['--quiet']],
    ])('is refused by %s (concurrency from the %s)', async (command, _from, extra) => {
      const r = await runCli([command, stateful(2), ...extra]);
      expect(r.code).toBe(1);
      expect(issueLines(r.stderr)).toEqual([refusal]);
    });

    it.each(['validate', 'run'])('is refused by %s when --concurrency sets it', async (command) => {
      const out = path.join(ws.dir, `out/stateful-${command}.csv`);
      const r = await runCli([command, stateful(1), '--concurrency', 'aggregate=2', '--sink-path', out]);
      expect(r.code).toBe(1);
      expect(issueLines(r.stderr)).toEqual([`${refusal} (set by --concurrency)`]);
      expect(existsSync(out)).toBe(false);
    });
  });

  it('names an unknown stage in a CLI override, with the config\'s own issues', async () => {
    const cfg = ws.config(base({ ordered: 'yes' }), 'override.config.ts');
    const r = await runCli(['run', cfg, '--mode', 'nosuch=thread']);
    expect(r.code).toBe(1);
    expect(issueLines(r.stderr)).toEqual(['  ✖ ordered: must be true or false, got "yes"', '  ✖ --mode: no stage named "nosuch" (stages: logger)']);
  });

  it('says which file is missing and from where', async () => {
    const r = await runCli(['validate', 'does-not-exist.ts'], { cwd: ws.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`looked for "does-not-exist.ts" from ${ws.dir}`);
  });

  it('rejects unknown flags with usage', async () => {
    const r = await runCli(['run', '--frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unknown argument/i);
  });
});

describe('configs anywhere on disk', () => {
  it.each([
    ['CommonJS project', '{ "name": "user-project" }'],
    ['ESM project', '{ "name": "user-project", "type": "module" }'],
  ])('loads a config in a %s that imports sluice, from its own cwd', async (_kind, pkg) => {
    const dir = path.join(ws.dir, `user-${pkg.includes('module') ? 'esm' : 'cjs'}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), pkg);
    writeNumbersCsv(path.join(dir, 'data.csv'), 50);
    writeFileSync(path.join(dir, 'double.ts'), `import { defineStage } from 'sluice';\nexport default defineStage({ process: (batch) => batch });\n`);
    writeFileSync(
      path.join(dir, 'pipeline.config.ts'),
      `import { definePipeline } from 'sluice';
export default definePipeline({
  name: 'user', source: { format: 'csv', path: 'data.csv' },
  stages: [{ name: 'pass', module: './double.ts', mode: 'thread' }, { name: 'pass2', module: './double.ts', mode: 'process' }],
  sink: { format: 'ndjson', path: 'out/user.ndjson' },
});\n`,
    );
    const r = await runCli(['run', '--quiet'], { cwd: dir });
    expect(r.stderr).not.toMatch(/\berror\b/i);
    expect(r.code).toBe(0);
  });
});

describe('an .mjs stage with top-level await', () => {
  it('validates and runs in a thread (imported as ESM, not through the CommonJS transform)', async () => {
    writeFileSync(path.join(ws.dir, 'tla.mjs'), 'const pass = await Promise.resolve((batch) => batch);\nexport default { process: pass };\n');
    const cfg = ws.config(base({ stages: [{ name: 'tla', module: './tla.mjs', mode: 'thread' }], sink: { format: 'csv', path: 'out/tla.csv' } }), 'tla.config.ts');
    const v = await runCli(['validate', cfg]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const r = await runCli(['run', cfg, '--quiet']);
    expect(r.code).toBe(0);
    expect(ws.outFiles()).toContain('tla.csv');
  });
});

describe('sluice explain', () => {
  it('prints stages, modes, copies, channel capacities and the memory bound', async () => {
    const cfg = ws.config(base({ channel: { capacity: 3, capacityBytes: 8 * 1024 * 1024 } }), 'explain.config.ts');
    const r = await runCli(['explain', cfg, '--mode', 'logger=thread', '--concurrency', 'logger=2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stage\s+logger: thread × 2/);
    expect(r.stdout).toContain('channel: 3 batches, 8 MiB');
    // No inline stage: the main thread only coordinates, so the source reads there.
    expect(r.stdout).toMatch(/source\s+csv, 1 file\(s\), .* read on the main thread/);
    // 2 channels × 8 MiB + 2 in-flight inputs of 8/3 MiB each
    expect(r.stdout).toMatch(/memory\s+batches in memory are bounded by 21\.3 MiB/);
  });

  it('warns about a tiny batchRows in explain and validate, and run logs the same warning at start', async () => {
    // Three rows: the warning is the config's, not the input's; at one row per batch the 300 of
    // in.csv cost the run ~0.7 CPU-s of batches that assert nothing more.
    writeNumbersCsv(path.join(ws.dir, 'tiny.csv'), 3);
    const cfg = ws.config(base({ source: { format: 'csv', path: 'tiny.csv', batchRows: 1 } }), 'tiny.config.ts');
    const warning = 'source.batchRows: 1 row per batch: every batch pays a fixed cost';
    for (const command of ['explain', 'validate']) {
      const shown = await runCli([command, cfg]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(`⚠ ${warning}`);
      // once, and in words (a second renderer printed it again as "[object Object]")
      expect(shown.stdout.split(warning)).toHaveLength(2);
      expect(shown.stdout).not.toContain('[object Object]');
    }
    const r = await runCli(['run', cfg, '--quiet', '--log-level', 'warn', '--sink-path', path.join(ws.dir, 'out/tiny.csv')]);
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; path: string });
    expect(warnings).toEqual([expect.objectContaining({ level: 40, path: 'source.batchRows', msg: expect.stringContaining(warning) })]);
  });
});

/**
 * One run, MALLOC_ARENA_MAX and GLIBC_TUNABLES unset, with the logger as a thread stage and as a
 * process stage (2 copies each): the worker-log test of each mode and the malloc defaults read its log.
 */
let loggedRun: Promise<Record<string, unknown>[]> | undefined;
const logged = () =>
  (loggedRun ??= (async () => {
    const cfg = ws.config(
      base({
        stages: (['thread', 'process'] as const).map((mode) => ({ name: `logger-${mode}`, module: path.join(FIXTURE_STAGES, 'e2e-log.ts'), mode, concurrency: 2, options: { probeMalloc: true } })),
      }),
      'log-modes.config.ts',
    );
    // (an undefined value removes the variable from the child's environment)
    const r = await runCli(['run', cfg, '--quiet', '--log-level', 'debug'], { env: { MALLOC_ARENA_MAX: undefined, GLIBC_TUNABLES: undefined } });
    expect(r.code).toBe(0);
    return r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  })());

describe('logs', () => {
  it.each(['thread', 'process'])('lines logged in a %s worker arrive in the run log with stage and worker', async (mode) => {
    const records = await logged();
    const stage = `logger-${mode}`;
    const ready = records.filter((l) => l.msg === 'stage ready' && l.stage === stage);
    expect(ready.map((l) => [l.stage, l.mode, l.worker]).sort()).toEqual([
      [stage, mode, 0],
      [stage, mode, 1],
    ]);
    expect(records.filter((l) => l.msg === 'batch seen' && l.stage === stage)).toHaveLength(3);
  });
});

/**
 * One run with both set by the user, MALLOC_ARENA_MAX=4 and GLIBC_TUNABLES=glibc.malloc.hugetlb=0,
 * and the logger as a process stage: the "unless the user set it" half of the arena test and of
 * the huge-pages test read its `stage ready` line (the launcher decides each variable on its own).
 */
let userSetRun: Promise<Record<string, unknown> | undefined> | undefined;
const userSet = () =>
  (userSetRun ??= (async () => {
    const cfg = ws.config(base({ stages: [{ name: 'logger', module: path.join(FIXTURE_STAGES, 'e2e-log.ts'), mode: 'process', options: { probeMalloc: true } }] }), 'user-set.config.ts');
    const r = await runCli(['run', cfg, '--quiet', '--log-level', 'info'], { env: { MALLOC_ARENA_MAX: '4', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' } });
    expect(r.code).toBe(0);
    return r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'stage ready');
  })());

describe('malloc arenas', () => {
  it('runs pipelines with MALLOC_ARENA_MAX=2 (children inherit it) unless the user set it', async () => {
    // Unset: the process copies of the run above say 2.
    const unset = (await logged()).filter((l) => l.msg === 'stage ready' && l.stage === 'logger-process');
    expect(unset).toHaveLength(2);
    for (const l of unset) expect(l.mallocArenaMax).toBe('2');
    // Set: the run above with MALLOC_ARENA_MAX=4.
    expect((await userSet())?.mallocArenaMax).toBe('4');
  });
});

/**
 * Whether glibc here backs malloc's memory with huge pages when asked (glibc.malloc.hugetlb=1):
 * glibc 2.35+ with transparent huge pages in "madvise" mode. Elsewhere the tunable does nothing
 * ("always" needs no asking, "never" refuses), and only the environment can be checked.
 */
function hugePagesOnRequest(): boolean {
  const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
  const [major = 0, minor = 0] = (glibc ?? '').split('.').map(Number);
  let thp = '';
  try {
    thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
  } catch {
    return false;
  }
  return (major > 2 || (major === 2 && minor >= 35)) && thp.includes('[madvise]');
}

describe('huge pages', () => {
  it('runs pipelines with glibc.malloc.hugetlb=1 (children inherit it), and malloc asks for huge pages', async () => {
    const ready = (await logged()).filter((l) => l.msg === 'stage ready');
    expect(ready.map((l) => l.stage).sort()).toEqual(['logger-process', 'logger-process', 'logger-thread', 'logger-thread']);
    for (const l of ready) {
      expect(l.glibcTunables).toBe('glibc.malloc.hugetlb=1');
      // A thread copy reports the run's own process, a process copy its child.
      if (hugePagesOnRequest()) expect(l.hugePageMappings).toBeGreaterThan(0);
    }
  });

  it('keeps hugetlb as the user chose it, and malloc then asks for no huge pages', async () => {
    // The run above with GLIBC_TUNABLES=glibc.malloc.hugetlb=0.
    const ready = await userSet();
    expect(ready?.glibcTunables).toBe('glibc.malloc.hugetlb=0');
    // The control of the test above: the mappings it counts come from the tunable, not from node.
    if (hugePagesOnRequest()) expect(ready?.hugePageMappings).toBe(0);
  });

  it.each([
    [undefined, 'glibc.malloc.hugetlb=1'],
    ['', 'glibc.malloc.hugetlb=1'],
    ['glibc.malloc.trim_threshold=1048576', 'glibc.malloc.trim_threshold=1048576:glibc.malloc.hugetlb=1'],
    ['glibc.malloc.hugetlb=0', 'glibc.malloc.hugetlb=0'],
    ['glibc.malloc.top_pad=0:glibc.malloc.hugetlb=2', 'glibc.malloc.top_pad=0:glibc.malloc.hugetlb=2'],
  ])('the sluice command given GLIBC_TUNABLES=%j hands node %j', (given, handed) => {
    // A `node` first on PATH that prints what it was given: the launcher's own logic, no run.
    const fake = path.join(ws.dir, 'fake-node');
    mkdirSync(fake, { recursive: true });
    writeFileSync(path.join(fake, 'node'), '#!/bin/sh\nprintf "%s" "$GLIBC_TUNABLES"\n');
    chmodSync(path.join(fake, 'node'), 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${fake}:${process.env.PATH}` };
    if (given === undefined) delete env.GLIBC_TUNABLES;
    else env.GLIBC_TUNABLES = given;
    expect(execFileSync(BIN, ['--version'], { env, encoding: 'utf8' })).toBe(handed);
  });
});

describe('sluice explain --profile', () => {
  it('measures each stage and recommends inline for trivial work, threads for heavy work', async () => {
    const cfg = ws.config(
      base({
        source: { format: 'csv', path: 'in.csv', batchRows: 50 },
        stages: [
          // Costs far apart, so the advice cannot flip on a busy machine: a pass-through (µs)
          // versus 150 ms per batch; the rules themselves are unit-tested on fixed numbers.
          { name: 'trivial', module: path.join(FIXTURE_STAGES, '../../../src/worker/passthrough.ts'), mode: 'process' },
          { name: 'heavy', module: path.join(FIXTURE_STAGES, 'e2e-slow.ts'), mode: 'inline', options: { ms: 150 } },
        ],
      }),
      'profile.config.ts',
    );
    const r = await runCli(['explain', cfg, '--profile']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/profile: 4 batch\(es\) sampled/);
    expect(r.stdout).toMatch(/ {2}trivial: inline × 1 — .* under twice the .* hand-off/);
    // As many copies as keep up with the source, at most one per core: every core here.
    const cores = os.availableParallelism();
    expect(r.stdout).toMatch(new RegExp(` {2}heavy: thread × ${cores} — CPU-bound JS, \\d+ ms/batch`));
    expect(r.stdout).toContain(`${cores} cores`);
  });
});

describe('help and version', () => {
  // They end the command early, which a guard against exits nobody asked for (cli/main.ts)
  // must not take for a command cut short (it once exited 70 here).
  it.each([['--help'], ['--version'], ['run', '--help'], ['init', '--help']])('sluice %s %s prints and exits 0', async (...args) => {
    const r = await runCli(args.filter((a): a is string => typeof a === 'string'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });
});
