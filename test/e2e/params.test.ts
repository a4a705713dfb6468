/**
 * Params for nightly runs through the real CLI: `--set` into a typed params block, a param in
 * the source and sink paths, `ctx.params` in every mode (read back with DuckDB), the params in
 * the run report and in `explain`, `--source-path`, and the errors a scheduler's typo gets.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
const inputs = { '2026-11-29': 3, '2026-11-30': 5 };

beforeAll(() => {
  ws = workspace('sluice-params-');
  for (const [day, rows] of Object.entries(inputs)) {
    mkdirSync(path.join(ws.dir, 'in', day), { recursive: true });
    const lines = ['id,day'];
    for (let i = 0; i < rows; i++) lines.push(`${day === '2026-11-29' ? 100 + i : i},${day}`);
    writeFileSync(path.join(ws.dir, 'in', day, 'part.csv'), lines.join('\n') + '\n');
  }
});
afterAll(() => ws.cleanup());

const MODES = ['inline', 'thread', 'process'] as const;
const STAMP = JSON.stringify(path.join(FIXTURE_STAGES, 'params-stamp.ts'));

/**
 * A config file whose paths are functions of the params (workspace.config writes JSON, which
 * has none): the params block and the source every config here shares, then `rest` (the
 * stages and the sink or sinks).
 */
function paramsConfig(name: string, rest: string): string {
  const file = path.join(ws.dir, `${name}.config.ts`);
  writeFileSync(
    file,
    `import { definePipeline } from 'sluice';
export default definePipeline({
  name: ${JSON.stringify(name)},
  params: {
    day: { type: 'date', description: 'the day to load' },
    limit: 100,
    dry: false,
    region: 'eu',
  },
  source: { format: 'csv', path: ({ params }) => \`in/\${params.day}/*.csv\` },
${rest}
});
`,
  );
  return file;
}

/** One params-stamp stage in `mode` and the single `sink` form, its path a function of the params. */
function config(name: string, mode: 'inline' | 'thread' | 'process'): string {
  return paramsConfig(
    name,
    `  stages: [{ name: 'stamp', module: ${STAMP}, mode: ${JSON.stringify(mode)}, concurrency: 2 }],
  sink: { format: 'parquet', path: ({ params }) => \`out/${name}/\${params.day}.parquet\` },`,
  );
}

/**
 * One run for every mode: a params-stamp stage per mode, each reading the source and writing
 * its own sink, whose path is a function of the params (a sink of `sinks`; config() above has
 * the single `sink` form). One CLI run instead of one per mode: each stage sees ctx.params
 * in its own copies all the same. One copy each: the 5 rows are one batch, which one copy
 * gets; a second thread and child would start, get nothing and prove nothing.
 */
function configAllModes(name: string): string {
  return paramsConfig(
    name,
    `  stages: [
${MODES.map((mode) => `    { name: 'stamp-${mode}', module: ${STAMP}, mode: '${mode}', concurrency: 1, input: 'source' },`).join('\n')}
  ],
  sinks: [
${MODES.map((mode) => `    { name: '${mode}', from: 'stamp-${mode}', format: 'parquet', path: ({ params }) => \`out/${name}/${mode}/\${params.day}.parquet\` },`).join('\n')}
  ],`,
  );
}

/** No display, no info lines: stderr holds only what went wrong. */
const QUIET = ['--quiet', '--log-level', 'warn'];

const parquet = (file: string) => `read_parquet('${file.replace(/'/g, "''")}')`;

describe('params', () => {
  it('reach an inline, a thread and a process stage as ctx.params, pick the input by its path, and are recorded in the report', async () => {
    const cfg = configAllModes('stamp');
    const report = path.join(ws.dir, 'stamp.report.json');
    const r = await runCli(['run', cfg, '--set', 'day=2026-11-30', '--set', 'limit=7', '--set', 'dry=true', '--report', report, ...QUIET]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const mode of MODES) {
      // The sink path was computed from the param too.
      expect(ws.outFiles()).toContain(path.join('stamp', mode, '2026-11-30.parquet'));
      const out = path.join(ws.dir, 'out', 'stamp', mode, '2026-11-30.parquet');
      const rows = await duckRows(
        `SELECT id, day::VARCHAR AS day, p_day, p_limit, p_dry, p_region, p_names, p_frozen, p_mode FROM ${parquet(out)} ORDER BY id`,
      );
      // Only the 5 rows of 2026-11-30 (ids 0…4), not the 3 of 2026-11-29 (ids 100…).
      expect(rows.map((row) => Number(row.id))).toEqual([0, 1, 2, 3, 4]);
      for (const row of rows) {
        expect(row).toMatchObject({ day: '2026-11-30', p_day: '2026-11-30', p_limit: 7, p_dry: true, p_region: 'eu', p_names: 'day,limit,dry,region', p_frozen: true, p_mode: mode });
      }
    }
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ ok: true, params: { day: '2026-11-30', limit: 7, dry: true, region: 'eu' } });
  });

  it('explain shows each resolved value, its type and where it came from, and the paths computed from them', async () => {
    const cfg = config('explained', 'thread');
    const r = await runCli(['explain', cfg, '--set', 'day=2026-11-29', '--set', 'region=us']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(1, 5)).toEqual([
      'params   day = "2026-11-29" (date, from --set)',
      '         limit = 100 (number, from default)',
      '         dry = false (boolean, from default)',
      '         region = "us" (string, from --set)',
    ]);
    expect(r.stdout).toContain(`           ${path.join(ws.dir, 'in', '2026-11-29', 'part.csv')}\n`);
    expect(r.stdout).toContain(`sink     parquet → ${path.join(ws.dir, 'out', 'explained', '2026-11-29.parquet')} `);
    // validate resolves them the same way and says so (flags before the config: each --set takes one value).
    const v = await runCli(['validate', '--set', 'day=2026-11-29', '--set', 'region=us', cfg]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(lines.slice(1, 5).join('\n'));
  });

  it('--source-path reads other inputs, relative to the working directory, once or as a list', async () => {
    const cfg = config('elsewhere', 'inline');
    const cwd = path.join(ws.dir, 'in');
    const one = await runCli(['run', cfg, '--set', 'day=2026-11-30', '--source-path', '2026-11-29/*.csv', ...QUIET], { cwd });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const out = path.join(ws.dir, 'out', 'elsewhere', '2026-11-30.parquet');
    expect((await duckRows(`SELECT id FROM ${parquet(out)} ORDER BY id`)).map((row) => Number(row.id))).toEqual([100, 101, 102]);
    const both = await runCli(['run', cfg, '--set', 'day=2026-11-30', '--source-path', '2026-11-29/part.csv', '--source-path', path.join(cwd, '2026-11-30', '*.csv'), ...QUIET], { cwd });
    expect(both.code).toBe(0);
    expect(await duckRows(`SELECT count(*)::INT AS n, count(DISTINCT day)::INT AS days FROM ${parquet(out)}`)).toEqual([{ n: 8, days: 2 }]);
    // A pattern that matches nothing is named by the flag the user typed.
    const none = await runCli(['validate', cfg, '--set', 'day=2026-11-30', '--source-path', '2026-12-*/*.csv'], { cwd });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`✖ --source-path: no file matches "${cwd}/2026-12-*/*.csv"`);
  });

  it('refuses an unknown, unparseable or missing param in one report naming the config, the same way in validate, explain and run', async () => {
    const cfg = config('broken', 'inline');
    const expected = [
      `sluice: invalid pipeline config in ${cfg}:`,
      '  ✖ --set: no param named "dya" (params: day, limit, dry, region; did you mean "day"?)',
      '  ✖ --set limit: must be a number, got "ten"',
      '  ✖ params.day: required (it has no default) and not given: pass --set day=YYYY-MM-DD (the day to load)',
      '',
    ].join('\n');
    for (const command of ['validate', 'explain', 'run']) {
      const r = await runCli([command, cfg, '--set', 'dya=2026-11-30', '--set', 'limit=ten', '--quiet'].filter((a) => command === 'run' || a !== '--quiet'));
      expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 1, stderr: expected });
    }
    const date = await runCli(['run', cfg, '--set', 'day=2026-13-45', '--quiet']);
    expect(date.code).toBe(1);
    expect(date.stderr).toBe(
      `sluice: invalid pipeline config in ${cfg}:\n  ✖ --set day: must be a date written YYYY-MM-DD (there is no month 13), got "2026-13-45"\n`,
    );
    expect(existsSync(path.join(ws.dir, 'out', 'broken'))).toBe(false);
  });

  it('refuses --set on a config without params, and a malformed params block, by path', async () => {
    const cfg = ws.config(
      {
        name: 'plain',
        params: { day: { type: 'dat' }, limit: { type: 'number', default: '100' } },
        source: { format: 'csv', path: 'in/2026-11-29/part.csv' },
        stages: [],
        sink: { format: 'csv', path: 'out/plain.csv' },
      },
      'plain.config.ts',
    );
    const r = await runCli(['validate', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✖ params.day.type: must be one of string, number, boolean, date, got "dat"\n');
    expect(r.stderr).toContain('✖ params.limit.default: must be a finite number, got "100"\n');
    const none = ws.config({ name: 'none', source: { format: 'csv', path: 'in/2026-11-29/part.csv' }, stages: [], sink: { format: 'csv', path: 'out/none.csv' } }, 'none.config.ts');
    const s = await runCli(['run', none, '--set', 'day=2026-11-30', '--quiet']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('✖ --set: no param named "day": the config declares no params (add them to its params block: params: { day: <default> })');
  });
});
