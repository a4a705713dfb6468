// Writes test/slow-files.json (what test/sequencer.cjs starts first on a clean clone) from the
// durations jest cached for this checkout: run the whole suite once (`npx jest`), then
// `node scripts/test-timings.mjs`. Files under 2 s are left out (their order hardly matters).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const jest = path.join(ROOT, 'node_modules', '.bin', 'jest');
const [config] = JSON.parse(execFileSync(jest, ['--showConfig'], { cwd: ROOT, encoding: 'utf8' })).configs;
// jest-haste-map names it perf-cache-<config id>-<hash>.
const file = readdirSync(config.cacheDirectory).find((f) => f.startsWith(`perf-cache-${config.id}`));
if (!file) {
  console.error(`no timings cached in ${config.cacheDirectory} for this checkout: run \`npx jest\` first`);
  process.exit(1);
}
const cache = JSON.parse(readFileSync(path.join(config.cacheDirectory, file), 'utf8'));
const out = path.join(ROOT, 'test', 'slow-files.json');
const before = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
const timings = Object.entries(cache)
  .map(([abs, [, ms]]) => [path.relative(ROOT, abs).split(path.sep).join('/'), Math.round(ms / 100) / 10])
  .filter(([rel, s]) => s >= 2 && existsSync(path.join(ROOT, rel)))
  .sort((a, b) => b[1] - a[1]);
writeFileSync(out, JSON.stringify(Object.fromEntries(timings), null, 2) + '\n');
console.log(`${out}: ${timings.length} files (was ${Object.keys(before).length})`);
