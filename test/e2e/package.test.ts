/**
 * sluice as a user gets it: the files `npm pack` ships, and a fresh project that installs the
 * packed tarball (dependencies from the npm registry, sluice from the local tarball) after
 * `sluice init`, then runs the scaffolded job and its test, a stage of its own that imports
 * apache-arrow and nodejs-polars in every mode, and its own `tsc` over sluice's types.
 *
 * What costs here is the install and each command run in the project, so each serves as much
 * as it can: the tarball is packed once for both describes; the own stage runs in its three
 * modes as three branches of one run (source → own-inline / own-thread / own-process → a sink
 * each); one `tsc` over the project with a bad copy of the config beside it shows both that the
 * project's own files check clean (no error names them) and that the check is real (the bad
 * copy's wrong mode is an error).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, REPO } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { inProject, npmInstall, packInto, requireBuild } from '../helpers/package';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));

function* walk(dir: string, rel = ''): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* walk(path.join(dir, e.name), `${rel}${e.name}/`);
    else yield `${rel}${e.name}`;
  }
}

/** The repo packed once, into a folder of this file's (both describes read it). */
let packed: { dir: string; tarball: string; files: string[] } | undefined;
function pack() {
  requireBuild();
  if (!packed) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-pack-'));
    packed = { dir, ...packInto(dir) };
  }
  return packed;
}
afterAll(() => packed && rmSync(packed.dir, { recursive: true, force: true }));

describe('npm pack', () => {
  let files: string[];
  beforeAll(() => {
    files = pack().files;
  });

  it('ships built JavaScript and declarations for every source file, and every file loaded at run time', () => {
    const missing: string[] = [];
    for (const rel of walk(path.join(REPO, 'src'))) {
      const want = rel.endsWith('.ts') ? [`dist/${rel.replace(/\.ts$/, '.js')}`, `dist/${rel.replace(/\.ts$/, '.d.ts')}`] : rel.endsWith('.c') ? [] : [`dist/${rel}`];
      for (const f of want) if (!files.includes(f)) missing.push(f);
    }
    expect(missing).toEqual([]);
    for (const rel of walk(path.join(REPO, 'templates'))) expect(files).toContain(`templates/${rel}`);
    expect(files).toEqual(expect.arrayContaining(['bin/sluice', 'bin/sluice.js', 'bin/build-stamp.js', 'package.json', 'README.md']));
  });

  it('ships nothing else: no sources, tests, benchmarks or data', () => {
    const other = files.filter((f) => !/^(dist|templates)\//.test(f) && !['bin/sluice', 'bin/sluice.js', 'bin/build-stamp.js', 'package.json', 'README.md'].includes(f));
    expect(other).toEqual([]);
    // TypeScript only as declarations (a user's tsc must not type-check sluice's sources) or as templates.
    expect(files.filter((f) => f.startsWith('dist/') && f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('names only shipped files as its entry points', () => {
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin), ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e as object)))];
    for (const t of targets as string[]) expect(files).toContain(path.normalize(t));
  });

  it('depends on apache-arrow from 21.2 (it reads Utf8View) and on nodejs-polars 0.24.1 exactly (later native builds are skipped on Node 20)', () => {
    expect(pkg.dependencies).toMatchObject({ 'apache-arrow': '^21.2.0', 'nodejs-polars': '0.24.1' });
    expect(pkg).not.toHaveProperty('peerDependencies');
  });
});

describe('a project installed from the packed tarball', () => {
  let tmp: string;
  let project: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-package-'));
    const { tarball } = pack();
    project = path.join(tmp, 'orders');
    // The documented path until sluice is on a registry: init names the tarball, then a plain install.
    const init = await runCli(['init', project, '--sluice', tarball], { cwd: tmp });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    npmInstall(project);
  }, 600_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('holds one copy of apache-arrow and of nodejs-polars, the pinned ones, and no TypeScript sources of sluice', () => {
    const copies = (name: string) => [...walk(path.join(project, 'node_modules'))].filter((f) => f.endsWith(`${name}/package.json`) && !f.slice(0, -`${name}/package.json`.length).includes(`${name}/`));
    expect(copies('apache-arrow')).toEqual(['apache-arrow/package.json']);
    expect(copies('nodejs-polars')).toEqual(['nodejs-polars/package.json']);
    expect(JSON.parse(readFileSync(path.join(project, 'node_modules/nodejs-polars/package.json'), 'utf8')).version).toBe('0.24.1');
    const sluiceFiles = [...walk(path.join(project, 'node_modules/sluice'))];
    expect(sluiceFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('templates/'))).toEqual([]);
  });

  it('runs the scaffolded job (npm start): shipped orders with their revenue, as DuckDB computes them from the CSV', async () => {
    const r = inProject(project, 'npm', ['start']);
    expect(r.stderr).toContain('wrote');
    expect(r.code).toBe(0);
    const got = await duckRows(`SELECT order_id, revenue FROM read_parquet('${project}/out/revenue.parquet') ORDER BY order_id`);
    const want = await duckRows(`SELECT order_id, quantity * unit_price AS revenue FROM read_csv('${project}/data/orders.csv') WHERE status = 'shipped' ORDER BY order_id`);
    expect(want.length).toBeGreaterThan(0);
    expect(got.map((g) => [Number(g.order_id), Number(g.revenue).toFixed(2)])).toEqual(want.map((w) => [Number(w.order_id), Number(w.revenue).toFixed(2)]));
  });

  it('passes the scaffolded stage test and the pipeline cases (npm test: node --test, then sluice test)', () => {
    const r = inProject(project, 'npm', ['test']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# pass 1$/m);
    expect(r.stdout).toMatch(/^# fail 0$/m);
    // sluice test found pipeline.cases.ts beside the config (a fresh project used to fail: "no cases file").
    expect(r.stdout).toMatch(/✔ revenue keeps shipped orders/);
  });

  it('fails npm test when a case fails (the cases are really run)', () => {
    const cases = path.join(project, 'pipeline.cases.ts');
    const good = readFileSync(cases, 'utf8');
    try {
      writeFileSync(cases, good.replace('revenue: 6', 'revenue: 7'));
      const r = inProject(project, 'node_modules/.bin/sluice', ['test']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/✖ revenue keeps shipped orders/);
    } finally {
      writeFileSync(cases, good);
    }
  });

  /** The own stage in its three modes: one `sluice run` of a graph, a branch per mode from the source, a sink each. */
  const MODES = ['inline', 'thread', 'process'] as const;
  let ownRun: ReturnType<typeof inProject> | undefined;
  function runOwn() {
    if (ownRun) return ownRun;
    writeFileSync(
      path.join(project, 'stages/own.ts'),
      `import { RecordBatch, tableFromArrays } from 'apache-arrow';
import pl from 'nodejs-polars';
import { defineStage } from 'sluice';

const revenue = pl.col('quantity').mul(pl.col('unit_price')).alias('revenue');

export default defineStage({
  setup(ctx) {
    // Built sluice gives a copy only tsx's require hook (register.cjs), never its ESM hooks.
    if (process.execArgv.some((a) => a.includes('register.mjs'))) throw new Error('ESM loader in ' + ctx.mode + ': ' + process.execArgv.join(' '));
  },
  process(batch, ctx) {
    // One apache-arrow: the engine's batch is a RecordBatch of the project's module…
    if (!(batch instanceof RecordBatch)) throw new Error('the batch is not a RecordBatch of this project\\'s apache-arrow');
    const df = ctx.toDataFrame(batch).withColumns(revenue).select('order_id', 'revenue');
    // …and a Table built with it is taken by the engine.
    return tableFromArrays({
      order_id: Float64Array.from(df.getColumn('order_id').toArray() as number[]),
      revenue: Float64Array.from(df.getColumn('revenue').toArray() as number[]),
    });
  },
});
`,
    );
    writeFileSync(
      path.join(project, 'own.config.ts'),
      `import { definePipeline } from 'sluice';
export default definePipeline({
  name: 'own',
  source: { format: 'csv', path: 'data/orders.csv', batchRows: 5 },
  stages: [${MODES.map((m) => `{ name: 'own-${m}', module: './stages/own.ts', mode: '${m}', input: 'source' }`).join(', ')}],
  sinks: [${MODES.map((m) => `{ name: '${m}', from: 'own-${m}', format: 'ndjson', path: 'out/own-${m}.ndjson' }`).join(', ')}],
});
`,
    );
    ownRun = inProject(project, 'node_modules/.bin/sluice', ['run', 'own.config.ts', '--quiet', '--log-level', 'error']);
    return ownRun;
  }

  it.each(MODES)('runs a stage of its own that imports apache-arrow and nodejs-polars, %s', async (mode) => {
    const r = runOwn();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = await duckRows(`SELECT order_id, round(revenue, 2) AS revenue FROM read_json('${path.join(project, `out/own-${mode}.ndjson`)}') ORDER BY order_id`);
    const want = await duckRows(`SELECT order_id, round(quantity * unit_price, 2) AS revenue FROM read_csv('${project}/data/orders.csv') ORDER BY order_id`);
    expect(got.map((g) => [Number(g.order_id), Number(g.revenue)])).toEqual(want.map((w) => [Number(w.order_id), Number(w.revenue)]));
  });

  it("type-checks with the project's own TypeScript and tsconfig (npm run typecheck): sluice ships .d.ts, not its sources", () => {
    expect(existsSync(path.join(project, 'node_modules/typescript/package.json'))).toBe(true);
    // One tsc: the project's files as they are, and a copy of the config with a wrong mode
    // beside them (under stages/, which the tsconfig includes). The copy fails (the check is
    // real); no error names any other file (the project, own stage included, checks clean).
    const config = path.join(project, 'pipeline.config.ts');
    const bad = path.join(project, 'stages/bad.config.ts');
    const good = readFileSync(config, 'utf8');
    expect(good).toContain("mode: 'thread'");
    try {
      writeFileSync(bad, good.replace("mode: 'thread'", "mode: 'threads'"));
      const r = inProject(project, 'npm', ['run', '--silent', 'typecheck']);
      expect(r.code).not.toBe(0);
      const said = r.stdout + r.stderr;
      expect(said).toMatch(/stages\/bad\.config\.ts.*"threads"/s);
      // tsc's lines: `file(line,col): error …`, continuations indented.
      expect(said.split('\n').filter((l) => l && !/^\s/.test(l) && !l.startsWith('stages/bad.config.ts('))).toEqual([]);
    } finally {
      rmSync(bad, { force: true });
    }
  });
});
