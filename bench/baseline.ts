/**
 * `npm run bench -- --baseline <rev> [--pairs N] --only <sections> [other bench options]`: no
 * regression against an earlier release. The same sections run in this tree and in a temporary
 * `git worktree` of `<rev>` (installed with `npm ci --offline`, from npm's cache), as separate
 * processes, in interleaved pairs whose order alternates (AB, BA, AB …: a machine that slows
 * down mid-run slows both alike). Every figure a section reports (its results JSON, flattened
 * to numbers: wall and CPU seconds, µs, MB, and the peers' figures, which run unchanged in both
 * trees and so show the machine's own drift) gets a ratio this/baseline per pair, and the
 * median of those ratios; the section process's own wall and CPU seconds too. Written to
 * bench/results/<date>-baseline-<rev>.{json,md}. The worktree is removed at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, median, ROOT } from './lib';

interface Side {
  figures: Record<string, number>;
}

/** Numbers of a results object, by path (`convert.results.sluice (CSV → Parquet).wall_s`); arrays of named rows by their name. */
export function flatten(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number' && Number.isFinite(value)) out[prefix] = value;
  else if (Array.isArray(value)) value.forEach((v, i) => flatten(v, `${prefix}.${rowName(v) ?? i}`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (k !== 'runs') flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

function rowName(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const r = v as Record<string, unknown>;
  for (const k of ['name', 'bytes', 'copies']) if (typeof r[k] === 'string' || typeof r[k] === 'number') return `${k === 'name' ? '' : `${k}=`}${String(r[k])}`;
  return undefined;
}

/** A worktree of `rev` with its packages installed offline; data/big shared with this tree (the generated inputs). */
function prepare(rev: string): string {
  const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${rev}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(path.join(os.tmpdir(), `sluice-baseline-${sha.slice(0, 7)}-`));
  rmSync(dir, { recursive: true, force: true });
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, sha], { stdio: 'inherit' });
  console.log(`  baseline ${rev} (${sha.slice(0, 10)}) in ${dir}: npm ci --offline …`);
  const ci = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: dir, stdio: 'inherit' });
  if (ci.status !== 0) throw new Error(`npm ci --offline failed in the baseline worktree ${dir} (exit ${ci.status}); is every package of ${rev} in npm's cache?`);
  mkdirSync(path.join(ROOT, 'data/big'), { recursive: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  if (!existsSync(path.join(dir, 'data/big'))) symlinkSync(path.join(ROOT, 'data/big'), path.join(dir, 'data/big'));
  return dir;
}

/** One bench process in `tree` for the sections; its figures, and its own wall and CPU (bench/measure.py). */
function runSide(tree: string, args: string[]): Side {
  const results = path.join(tree, 'bench/results');
  const before = new Set(existsSync(results) ? readdirSync(results) : []);
  const r = spawnSync('python3', [path.join(__dirname, 'measure.py'), process.execPath, path.join(tree, 'bin/bench.js'), ...args], { cwd: tree, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '' } });
  const m = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}') as { code: number; wall_s: number; cpu_s: number };
  if (m.code !== 0) throw new Error(`bench in ${tree} failed (${m.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  const made = readdirSync(results).filter((f) => !before.has(f));
  const json = made.find((f) => f.endsWith('.json'));
  if (!json) throw new Error(`bench in ${tree} wrote no results JSON`);
  const report = JSON.parse(readFileSync(path.join(results, json), 'utf8')) as { results: unknown };
  // The results this tree's bench wrote are a by-product of the comparison: not kept.
  for (const f of made) rmSync(path.join(results, f), { force: true });
  return { figures: { ...flatten(report.results), 'process.wall_s': m.wall_s, 'process.cpu_s': m.cpu_s } };
}

export async function againstBaseline(rev: string, pairs: number, args: string[]): Promise<void> {
  const base = prepare(rev);
  try {
    const ratios: Record<string, number[]> = {};
    const values: Record<string, { head: number[]; base: number[] }> = {};
    for (let p = 0; p < pairs; p++) {
      const order = p % 2 === 0 ? (['head', 'base'] as const) : (['base', 'head'] as const);
      const got: Partial<Record<'head' | 'base', Side>> = {};
      for (const side of order) got[side] = runSide(side === 'head' ? ROOT : base, args);
      for (const [k, h] of Object.entries(got.head!.figures)) {
        const b = got.base!.figures[k];
        if (b === undefined) continue;
        (values[k] ??= { head: [], base: [] }).head.push(h);
        values[k].base.push(b);
        if (b !== 0) (ratios[k] ??= []).push(h / b);
      }
      // Written after every pair: a run cut short (a loaded machine, a deadline) keeps what it measured.
      write(rev, p + 1, args, ratios, values, false);
      console.log(`  pair ${p + 1}/${pairs} (${order.join(' then ')}): process wall ${fmt(got.head!.figures['process.wall_s'])} s vs ${fmt(got.base!.figures['process.wall_s'])} s, CPU ${fmt(got.head!.figures['process.cpu_s'])} s vs ${fmt(got.base!.figures['process.cpu_s'])} s`);
    }
    console.log(`\nresults in bench/results/${write(rev, pairs, args, ratios, values)}.{json,md}`);
  } finally {
    spawnSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', base], { stdio: 'inherit' });
  }
}

const started = new Date().toISOString().slice(0, 19).replace(/:/g, '-');

/** The comparison so far, as bench/results/<start>-baseline-<rev>.{json,md}; its name. */
function write(rev: string, pairs: number, args: string[], ratios: Record<string, number[]>, values: Record<string, { head: number[]; base: number[] }>, print = true): string {
  const rows = Object.entries(ratios).map(([k, rs]) => ({ figure: k, head: median(values[k].head), base: median(values[k].base), ratio: median(rs), ratios: rs }));
  const date = started;
  const name = `${date}-baseline-${rev.replace(/[^\w.-]/g, '_')}`;
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ date, rev, pairs, args, loadavg: os.loadavg(), cpus: os.cpus().length, rows }, null, 2) + '\n');
  const md = [
    `# sluice bench: this tree against ${rev} (${date})`,
    '',
    `\`npm run bench -- --baseline ${rev} --pairs ${pairs} ${args.join(' ')}\`: ${pairs} interleaved pairs (order alternating), each side a fresh bench process. Ratio = this tree / ${rev}, per pair, then the median; < 1 is faster (or smaller). Peers (DuckDB, polars) run the same code in both trees: their ratios show the machine's drift. Machine: ${os.cpus().length} cores, shared with other work (load average at the end: ${load}); prefer CPU-time ratios.`,
    '',
    '| figure | this tree (median) | baseline (median) | ratio (median of pairs) | ratios per pair |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.figure} | ${fmt(r.head)} | ${fmt(r.base)} | ${fmt(r.ratio)} | ${r.ratios.map((x) => fmt(x)).join(', ')} |`),
    '',
  ].join('\n');
  writeFileSync(path.join(dir, `${name}.md`), md);
  if (print) for (const r of rows.filter((x) => /(wall_s|cpu_s|Us|Ms|ms)$/.test(x.figure))) console.log(`  ${r.figure.padEnd(60)} ${fmt(r.ratio).padStart(6)}×  (${r.ratios.map((x) => fmt(x)).join(', ')})`);
  return name;
}
