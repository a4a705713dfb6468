/**
 * Start-up: which sluice runs (bin/sluice.js picks dist/ or src/) and what each command loads.
 * Structure, not time: the time is measured by `npm run bench -- --only startup`.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, runCli, runNode } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { requireBuild } from '../helpers/package';

const SLUICE_JS = path.join(REPO, 'bin/sluice.js');

/** Runs `node bin/sluice.js <args>` and returns the CommonJS modules it loaded (paths under REPO made relative). */
async function loadedBy(args: string[], cwd = REPO) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-loaded-'));
  try {
    const probe = path.join(dir, 'probe.cjs');
    const list = path.join(dir, 'modules.json');
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const r = await runNode(['-r', probe, SLUICE_JS, ...args], { cwd });
    const modules = (JSON.parse(readFileSync(list, 'utf8')) as string[]).map((m) => path.relative(REPO, m));
    return { ...r, modules, packages: new Set(modules.map((m) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(m)?.[1]).filter(Boolean)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('what a command loads (built sluice)', () => {
  beforeAll(requireBuild);

  it('--help: the built CLI and yargs, no TypeScript loader, no engine', async () => {
    const r = await loadedBy(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sluice init [dir]');
    expect(r.modules).toContain('dist/cli/main.js');
    expect(r.modules.filter((m) => m.startsWith('src/'))).toEqual([]);
    // yargs as the build bundled it (one CommonJS file), not the package's ES modules.
    expect(r.modules).toContain('dist/vendor/yargs.cjs');
    expect(r.modules.filter((m) => /node_modules\/(yargs|yargs-parser|cliui|string-width)\//.test(m))).toEqual([]);
    for (const heavy of ['tsx', 'esbuild', 'apache-arrow', 'nodejs-polars', 'piscina', 'pino', 'zod']) expect(r.packages).not.toContain(heavy);
  });

  it('run without thread stages: no piscina (it is loaded when a thread copy starts)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-no-threads-'));
    try {
      writeFileSync(path.join(dir, 'in.csv'), 'id\n1\n');
      const stage = { name: 'id', module: path.join(REPO, 'test/fixtures/stages/identity.ts'), mode: 'inline' };
      writeFileSync(path.join(dir, 'p.config.ts'), `export default ${JSON.stringify({ name: 'no-threads', source: { format: 'csv', path: 'in.csv' }, stages: [stage], sink: { format: 'csv', path: 'out.csv' } })};\n`);
      const r = await loadedBy(['run', 'p.config.ts', '--quiet', '--log-level', 'warn'], dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(path.join(dir, 'out.csv'), 'utf8')).toBe('id\n1\n');
      // The module that starts thread copies is loaded (the executors' switch imports it); piscina is not.
      expect(r.modules).toContain('dist/supervisor/piscina.js');
      expect(r.packages).not.toContain('piscina');
      // Neither the --report page's code nor explain --profile's sampler: this run asked for neither.
      expect(r.modules.filter((m) => m.startsWith('dist/cli/report-html/') || m === 'dist/runtime/profile.js' || m === 'dist/cli/profile.js')).toEqual([]);
      // A CSV source: the NDJSON and Parquet readers are not loaded.
      expect(r.modules.filter((m) => /^dist\/io\/sources\/(ndjson|parquet)/.test(m))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run of an Arrow source: no nodejs-polars on the main thread (nothing there parses or converts with it)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-no-polars-'));
    try {
      writeFileSync(path.join(dir, 'in.arrow'), tableToIPC(tableFromArrays({ id: Int32Array.from([1, 2]), name: ['a', 'b'] }), 'file'));
      writeFileSync(path.join(dir, 'p.config.ts'), `export default ${JSON.stringify({ name: 'no-polars', source: { format: 'arrow', path: 'in.arrow' }, stages: [], sink: { format: 'csv', path: 'out.csv' } })};\n`);
      const r = await loadedBy(['run', 'p.config.ts', '--quiet', '--log-level', 'warn'], dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(await duckRows(`SELECT id::INTEGER AS id, name FROM read_csv('${path.join(dir, 'out.csv')}') ORDER BY id`)).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
      expect(r.modules).toContain('dist/csv/parse.js'); // the CSV and NDJSON readers are loaded, polars is not
      expect(r.packages).not.toContain('nodejs-polars');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validate: the checks, the source reader and the stage modules, no pools and no runtime', async () => {
    const r = await loadedBy(['validate', 'pipeline.config.ts']);
    expect(r.code).toBe(0);
    expect(r.modules).toContain('dist/check/index.js');
    expect(r.modules).toContain('stages/aggregate.ts');
    expect(r.packages).not.toContain('piscina');
    expect(r.modules.filter((m) => /^dist\/(runtime|executors|io\/sinks)\//.test(m))).toEqual([]);
    expect(r.modules).toContain('dist/vendor/yargs.cjs');
    expect(r.packages).not.toContain('yargs');
  });
});

describe('a TypeScript config tsx has not seen before (built sluice)', () => {
  beforeAll(requireBuild);

  it('is transformed without an esbuild worker thread, and the config does not see the setting that says so', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-fresh-ts-'));
    try {
      // Each thread that starts (the preload runs in workers too) writes its workerData's keys.
      const probe = path.join(dir, 'threads.cjs');
      const log = path.join(dir, 'threads.log');
      writeFileSync(probe, `const w = require('node:worker_threads');\nif (!w.isMainThread) require('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(Object.keys(Object(w.workerData))) + '\\n');\n`);
      writeFileSync(path.join(dir, 'in.csv'), 'id\n1\n');
      // New content every run: tsx's transform cache cannot have it.
      writeFileSync(
        path.join(dir, 'p.config.ts'),
        `const seen: string = String(process.env.ESBUILD_WORKER_THREADS); // ${Date.now()} ${process.pid}\nexport default { name: 'env-' + seen, source: { format: 'csv', path: 'in.csv' }, stages: [], sink: { format: 'csv', path: 'out.csv' } };\n`,
      );
      const r = await runNode([SLUICE_JS, 'validate', path.join(dir, 'p.config.ts')], { cwd: dir, env: { NODE_OPTIONS: `--require ${probe}`, ESBUILD_WORKER_THREADS: undefined } });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('config valid: env-undefined');
      const threads = existsSync(log) ? readFileSync(log, 'utf8') : '';
      expect(threads).not.toContain('esbuildVersion');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('run: stage copies start beside the checks', () => {
  // The strong form (copies known to be up, then stopped) is in test/unit/runtime/early-start;
  // here, through the CLI: a check that fails once the copies may have started still wins,
  // and no child outlives the command.
  it('a column check that fails after the copies started: exit 1, the check says why, no child left', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-early-e2e-'));
    try {
      const marks = path.join(dir, 'marks');
      mkdirSync(marks);
      writeFileSync(path.join(dir, 'in.csv'), 'id,name\n1,a\n');
      const stage = path.join(REPO, 'test/fixtures/stages/setup-marker.ts');
      writeFileSync(
        path.join(dir, 'p.config.ts'),
        `export default { name: 'early', source: { format: 'csv', path: 'in.csv', columns: ['nope'] },
          stages: [{ name: 'mark', module: ${JSON.stringify(stage)}, mode: 'process', concurrency: 2, options: { dir: ${JSON.stringify(marks)} } }],
          sink: { format: 'csv', path: 'out.csv' } };\n`,
      );
      const r = await runCli(['run', path.join(dir, 'p.config.ts')], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/source\.columns\[0\].*column "nope" is not in the source/);
      const alive = readdirSync(marks).map((m) => Number(m.split('-')[0])).filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      expect(alive).toEqual([]);
      expect(existsSync(path.join(dir, 'out.csv'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('apache-arrow in a built run: one bundled file in every thread and process, the same module for sluice and the stages', () => {
  beforeAll(requireBuild);

  it('an inline, a thread and a process stage that build their output with apache-arrow: no file of the package is loaded, and the answer is right (DuckDB)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-arrow-bundle-'));
    try {
      // Every CommonJS file compiled, by process and thread (worker threads included).
      const probe = path.join(dir, 'probe.cjs');
      const log = path.join(dir, 'compiled.log');
      writeFileSync(
        probe,
        `const M = require('node:module'); const fs = require('node:fs'); const id = process.pid + '/' + require('node:worker_threads').threadId;
const compile = M.prototype._compile;
M.prototype._compile = function (content, filename) { fs.appendFileSync(${JSON.stringify(log)}, id + ' ' + filename + '\\n'); return compile.apply(this, arguments); };\n`,
      );
      writeFileSync(path.join(dir, 'in.csv'), 'id,name\n1,a\n2,b\n');
      // tag.ts builds a Table from sluice's vectors and its own vectorFromArray: both must be one apache-arrow.
      const tag = (name: string, mode: string) => ({ name, module: path.join(REPO, 'test/fixtures/stages/tag.ts'), mode, concurrency: 1, options: { tag: mode } });
      const config = { name: 'arrow-bundle', source: { format: 'csv', path: 'in.csv' }, stages: [tag('ti', 'inline'), tag('tt', 'thread'), tag('tp', 'process')], sink: { format: 'csv', path: 'out.csv' } };
      writeFileSync(path.join(dir, 'p.config.ts'), `export default ${JSON.stringify(config)};\n`);
      const r = await runCli(['run', 'p.config.ts', '--quiet', '--log-level', 'warn'], { cwd: dir, env: { NODE_OPTIONS: `--require ${probe}` } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(await duckRows(`SELECT id::INTEGER AS id, name, tag FROM read_csv('${path.join(dir, 'out.csv')}') ORDER BY id`)).toEqual([
        { id: 1, name: 'a', tag: 'process@tp' },
        { id: 2, name: 'b', tag: 'process@tp' },
      ]);
      const compiled = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
      expect(compiled.filter(([, file]) => file.includes('/node_modules/apache-arrow/'))).toEqual([]);
      // The CLI, the stage thread and the stage's child (each stage copy, the sink's and source's threads that use it).
      const withBundle = new Set(compiled.filter(([, file]) => file === path.join(REPO, 'dist/vendor/apache-arrow.cjs')).map(([who]) => who));
      expect(withBundle.size).toBeGreaterThanOrEqual(3);
      // pino is the CLI's (its main thread logs the run); a copy, whose stage logs nothing at
      // the run's level, never loads it (log/forwarding.ts: made on the first line logged).
      const cli = compiled.find(([, file]) => file === path.join(REPO, 'dist/cli/main.js'))![0];
      const withPino = new Set(compiled.filter(([, file]) => file.includes('/node_modules/pino/')).map(([who]) => who));
      expect([...withPino]).toEqual([cli]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an embedded run's process (sluice's index required by the user's script) keeps the package's own apache-arrow", async () => {
    const script = `require(${JSON.stringify(path.join(REPO, 'dist/index.js'))}); require('apache-arrow');
process.stdout.write(String(Object.keys(require.cache).some((f) => f.endsWith('/node_modules/apache-arrow/table.js'))));`;
    const r = await runNode(['-e', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('true');
  });
});

describe('the node processes a run starts', () => {
  // Every node process and thread that starts appends its command line (main threads only).
  async function started(stage: Record<string, unknown>) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-started-'));
    try {
      const probe = path.join(dir, 'probe.cjs');
      const log = path.join(dir, 'started.log');
      writeFileSync(probe, `if (require('node:worker_threads').isMainThread) require('node:fs').appendFileSync(${JSON.stringify(log)}, process.argv.slice(1).join(' ') + '\\n');\n`);
      writeFileSync(path.join(dir, 'in.csv'), 'id\n1\n');
      const config = { name: 'started', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 'id', module: path.join(REPO, 'test/fixtures/stages/identity.ts'), mode: 'inline', ...stage }], sink: { format: 'csv', path: 'out.csv' } };
      writeFileSync(path.join(dir, 'p.config.ts'), `export default ${JSON.stringify(config)};\n`);
      // runCli resolves once stderr closed: the watcher holds it (inherited) until it is done.
      const r = await runCli(['run', 'p.config.ts', '--quiet', '--log-level', 'warn'], { cwd: dir, env: { NODE_OPTIONS: `--require ${probe}` } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return readFileSync(log, 'utf8').trim().split('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a run that ends by itself starts no node for its death watch (sh and cat keep its lines; node replays them only after a death)', async () => {
    const commands = await started({});
    expect(commands.filter((c) => c.includes('watcher.cjs'))).toEqual([]);
    expect(commands).toHaveLength(1); // the CLI itself
  });

  it('an inline stage with a timeout: the node watcher runs from the start (it ends a run stuck past the timeout)', async () => {
    const commands = await started({ timeout: '10m' });
    expect(commands.filter((c) => c.includes('watcher.cjs'))).toHaveLength(1);
  });
});

describe('sluice init through the CLI', () => {
  it('refuses to overwrite: exit 1, the files named, nothing written', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-init-e2e-'));
    try {
      writeFileSync(path.join(dir, 'pipeline.config.ts'), 'mine');
      const r = await runCli(['init', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('already has pipeline.config.ts: nothing was written');
      expect(existsSync(path.join(dir, 'package.json'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bin/sluice.js picks dist/ only while it is current', () => {
  let root: string;
  /** A package layout whose dist/ and src/ CLIs print where they came from. */
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'sluice-bin-'));
    mkdirSync(path.join(root, 'bin'));
    copyFileSync(SLUICE_JS, path.join(root, 'bin/sluice.js'));
    copyFileSync(path.join(REPO, 'bin/build-stamp.js'), path.join(root, 'bin/build-stamp.js'));
    mkdirSync(path.join(root, 'dist/cli'), { recursive: true });
    writeFileSync(path.join(root, 'dist/cli/main.js'), "exports.main = async () => { process.stdout.write('dist'); return 0; };\n");
    mkdirSync(path.join(root, 'src/cli'), { recursive: true });
    writeFileSync(path.join(root, 'src/register.mjs'), `import ${JSON.stringify(pathToFileURL(path.join(REPO, 'src/register.mjs')).href)};\n`);
    writeFileSync(path.join(root, 'src/cli/main.ts'), "export async function main(): Promise<number> { process.stdout.write('src'); return 0; }\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const stamp = () => path.join(root, 'dist/.build-stamp');
  const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
  const which = async (env: NodeJS.ProcessEnv = {}) => (await runNode([path.join(root, 'bin/sluice.js')], { cwd: root, env: { SLUICE_FROM_SOURCE: '', ...env } })).stdout;

  it('a build newer than every source file: dist/', async () => {
    writeFileSync(stamp(), '');
    at(path.join(root, 'src/register.mjs'), 1000);
    at(path.join(root, 'src/cli/main.ts'), 1000);
    at(stamp(), 2000);
    expect(await which()).toBe('dist');
  });

  it('a source file edited after the build: src/', async () => {
    at(path.join(root, 'src/cli/main.ts'), 3000);
    expect(await which()).toBe('src');
    at(path.join(root, 'src/cli/main.ts'), 1000);
  });

  it('SLUICE_FROM_SOURCE=1: src/', async () => {
    expect(await which({ SLUICE_FROM_SOURCE: '1' })).toBe('src');
  });

  it('no build stamp (an interrupted or old build): src/', async () => {
    rmSync(stamp());
    expect(await which()).toBe('src');
  });

  it('no src/ (the installed package): dist/', async () => {
    rmSync(path.join(root, 'src'), { recursive: true });
    expect(await which()).toBe('dist');
  });
});
