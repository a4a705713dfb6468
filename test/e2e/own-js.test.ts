/**
 * sluice's own CommonJS loads past the TS loader (src/own-js.ts): once tsx's require hook is
 * registered (a TypeScript config in the CLI, a TypeScript stage in a copy), sluice's built files
 * and the packages it loads itself (nodejs-polars, pino, piscina) still load with Node's own
 * loader, not through tsx's read-and-scan. Structure, not time: one built CLI run whose every
 * thread and process records which `.js` files tsx's transformer read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, runNode } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { requireBuild } from '../helpers/package';

const STAGES = path.join(REPO, 'test/fixtures/stages');

describe("sluice's own JavaScript past the TS loader (built sluice)", () => {
  beforeAll(requireBuild);

  it('a thread copy that parses CSV and logs, and a process copy running a polars stage: no file of sluice, nodejs-polars, pino or piscina goes through tsx; the answer is right (DuckDB)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-own-js-'));
    try {
      // Every thread and process (the preload runs in worker threads and children too) appends
      // each `.js` file tsx's require hook reads (its transformer is on the stack of the read).
      const probe = path.join(dir, 'probe.cjs');
      const log = path.join(dir, 'via-tsx.log');
      writeFileSync(
        probe,
        `const fs = require('node:fs'); const read = fs.readFileSync; const append = fs.appendFileSync;
fs.readFileSync = function (file) {
  if (typeof file === 'string' && file.endsWith('.js') && /tsx[\\\\/]dist[\\\\/]register/.test(new Error().stack)) append(${JSON.stringify(log)}, file + '\\n');
  return read.apply(this, arguments);
};\n`,
      );
      // A user's own .js file through tsx, as before: the hook is still there for the user's code.
      writeFileSync(path.join(dir, 'helper.js'), 'module.exports = { factor: 2 };\n');
      writeFileSync(
        path.join(dir, 'user-stage.ts'),
        `import { defineStage } from 'sluice';\nconst { factor } = require('./helper.js') as { factor: number };\nexport default defineStage({ process(batch) { if (factor !== 2) throw new Error('helper.js not loaded'); return batch; } });\n`,
      );
      writeFileSync(path.join(dir, 'in.csv'), 'x,name\n1,a\n2,b\n3,c\n');
      // Thread first: it gets the CSV text and parses it itself (nodejs-polars and the parser load in it, after tsx).
      writeFileSync(
        path.join(dir, 'p.config.ts'),
        `export default { name: 'own-js', source: { format: 'csv', path: 'in.csv' }, stages: [
  { name: 'log', module: ${JSON.stringify(path.join(STAGES, 'e2e-log.ts'))}, mode: 'thread', concurrency: 1 },
  { name: 'double', module: ${JSON.stringify(path.join(STAGES, 'polars-double.ts'))}, mode: 'process', concurrency: 1 },
  { name: 'user', module: './user-stage.ts', mode: 'process', concurrency: 1 },
], sink: { format: 'parquet', path: 'out.parquet' } };\n`,
      );
      const r = await runNode([path.join(REPO, 'bin/sluice.js'), 'run', 'p.config.ts', '--log-level', 'info', '--quiet'], { cwd: dir, env: { NODE_OPTIONS: `--require ${probe}` } });
      expect(r.stderr).toContain('stage ready'); // the thread copy logged: pino loaded in it
      expect({ code: r.code, errors: r.stderr.split('\n').filter((l) => l.startsWith('sluice:')) }).toEqual({ code: 0, errors: [] });
      const viaTsx = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      expect(viaTsx).toContain(path.join(dir, 'helper.js'));
      const own = [path.join(REPO, 'dist') + path.sep, ...['nodejs-polars', 'pino', 'piscina'].map((p) => path.join(REPO, 'node_modules', p) + path.sep)];
      expect(viaTsx.filter((f) => own.some((o) => f.startsWith(o)))).toEqual([]);
      const rows = await duckRows(`SELECT x, name, doubled FROM '${path.join(dir, 'out.parquet')}' ORDER BY x`);
      expect(rows).toEqual([
        { x: '1', name: 'a', doubled: 2 },
        { x: '2', name: 'b', doubled: 4 },
        { x: '3', name: 'c', doubled: 6 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
