/** The package's public face: the ESM re-export list matches src/index.ts, and run() works. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as api from '../../src/index';
import { FIXTURE_STAGES, workspace, writeNumbersCsv } from '../helpers/workspace';

it('src/index.mjs re-exports every value export of src/index.ts', () => {
  const mjs = readFileSync(path.resolve(__dirname, '../../src/index.mjs'), 'utf8');
  const listed = /export const \{([^}]*)\} = api;/.exec(mjs)![1].split(',').map((s) => s.trim()).filter(Boolean);
  const values = Object.keys(api).filter((k) => k !== '__esModule' && k !== 'default');
  expect(listed.sort()).toEqual(values.sort());
});

it('run() runs a pipeline from code and resolves with its report', () => {
  const ws = workspace();
  try {
    writeNumbersCsv(path.join(ws.dir, 'in.csv'), 120);
    const cfg = ws.config({
      name: 'from-code',
      source: { format: 'csv', path: 'in.csv', batchRows: 50 },
      stages: [{ name: 't', module: path.join(FIXTURE_STAGES, 'e2e-transform.ts'), mode: 'inline' }],
      sink: { format: 'ndjson', path: 'out/code.ndjson' },
    });
    // Through a child with the TS loader registered, as a user's script would run.
    const script = path.join(ws.dir, 'script.ts');
    writeFileSync(script, `import { run } from 'sluice';\nrun(${JSON.stringify(cfg)}).then((r) => console.log(JSON.stringify({ ok: r.ok, rows: r.sink.rows })));\n`);
    const out = spawnSync(process.execPath, ['--import', path.resolve(__dirname, '../../src/register.mjs'), script], { encoding: 'utf8', cwd: ws.dir });
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toEqual({ ok: true, rows: 120 });
  } finally {
    ws.cleanup();
  }
});

it('run() checks everything before it starts, as `sluice run` does: a stage with flush() at 2 copies is refused', () => {
  const ws = workspace();
  try {
    writeNumbersCsv(path.join(ws.dir, 'in.csv'), 20);
    const cfg = ws.config({
      name: 'from-code',
      source: { format: 'csv', path: 'in.csv' },
      stages: [{ name: 'count', module: path.join(FIXTURE_STAGES, 'e2e-count.ts'), mode: 'thread' }],
      sink: { format: 'ndjson', path: 'out/code.ndjson' },
    });
    const script = path.join(ws.dir, 'script.ts');
    writeFileSync(
      script,
      `import { run } from 'sluice';\nrun(${JSON.stringify(cfg)}, { concurrency: ['count=2'] }).then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, issues: e.issues.map((i: { path: string }) => i.path) })));\n`,
    );
    const out = spawnSync(process.execPath, ['--import', path.resolve(__dirname, '../../src/register.mjs'), script], { encoding: 'utf8', cwd: ws.dir });
    expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toEqual({ code: 'SLUICE_CONFIG_INVALID', issues: ['stages[0].concurrency'] });
    expect(ws.outFiles()).toEqual([]);
  } finally {
    ws.cleanup();
  }
});

it('run() takes params and a source path as the CLI does, and its report records the params', () => {
  const ws = workspace();
  try {
    writeNumbersCsv(path.join(ws.dir, 'in.csv'), 20);
    writeNumbersCsv(path.join(ws.dir, 'other.csv'), 7);
    const cfg = ws.config({
      name: 'from-code',
      params: { tag: 'a', n: 1 },
      source: { format: 'csv', path: 'in.csv' },
      stages: [],
      sink: { format: 'ndjson', path: 'out/code.ndjson' },
    });
    const script = path.join(ws.dir, 'script.ts');
    writeFileSync(
      script,
      `import { run } from 'sluice';\nrun(${JSON.stringify(cfg)}, { set: ['tag=x'], sourcePath: ['other.csv'] }).then((r) => console.log(JSON.stringify({ rows: r.sink.rows, params: r.params })));\n`,
    );
    const out = spawnSync(process.execPath, ['--import', path.resolve(__dirname, '../../src/register.mjs'), script], { encoding: 'utf8', cwd: ws.dir });
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toEqual({ rows: 7, params: { tag: 'x', n: 1 } });
  } finally {
    ws.cleanup();
  }
});
