/**
 * The death watch of a run with two sinks (cli/watcher.cjs): `kill -9` of `sluice run` at each
 * step of its commit (SLUICE_TEST_STOP_AT stops it there, SIGSTOP; no timing), and the report
 * and metrics the watcher writes say what the disk says, by the rule `sluice recover` follows:
 * before the journal nothing was committed; from the journal until the last rename the commit
 * is decided but not finished (commitPending, sluice_run_commit_pending 1; `sluice recover`
 * then makes every output the new one); after the renames it is committed. Outputs are read
 * back by DuckDB. The recovery is `sluice recover` itself after one step, and the function that
 * command calls after the others (src/cli/recover.ts recoverCommand: what the CLI adds is
 * printing its lines and exit 0; a `sluice recover` child costs ~1.3 CPU-s).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { recoverCommand } from '../../src/cli/recover';
import { BIN, runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { parseOpenMetrics } from '../helpers/openmetrics';
import { killWhenStopped } from '../helpers/processes';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-death-sinks-');
  writeFileSync(path.join(ws.dir, 'in.csv'), 'id\n1\n2\n3\n');
});
afterAll(() => ws.cleanup());

const STEPS = [
  ['before-journal', 'none'],
  ['after-journal', 'pending'],
  ['between-renames', 'pending'],
  ['after-renames', 'committed'],
] as const;

/** The ids in each output, read by DuckDB. */
async function ids(dir: string): Promise<number[][]> {
  const out: number[][] = [];
  for (const f of ['a.csv', 'b.csv']) out.push((await duckRows(`SELECT id::INTEGER AS id FROM read_csv('${path.join(dir, f)}') ORDER BY id`)).map((r) => r.id as number));
  return out;
}

describe.each(STEPS.map(([step, verdict]) => [step, verdict]))('killed at %s', (step, verdict) => {
  it(`the watcher says ${verdict}, and recover leaves all old or all new outputs`, async () => {
    const dir = path.join(ws.dir, `out-${step}`);
    const [a, b] = [path.join(dir, 'a.csv'), path.join(dir, 'b.csv')];
    mkdirSync(dir);
    writeFileSync(a, 'id\n100\n');
    writeFileSync(b, 'id\n200\n');
    const cfg = ws.config(
      {
        name: `died-${step}`,
        source: { format: 'csv', path: 'in.csv' },
        stages: [{ name: 'same', module: path.join(FIXTURE_STAGES, 'identity.ts'), mode: 'inline' }],
        sinks: [
          { name: 'a', from: 'same', format: 'csv', path: a },
          { name: 'b', from: 'same', format: 'csv', path: b },
        ],
      },
      `died-${step}.config.ts`,
    );
    const [report, metrics] = [path.join(ws.dir, `${step}.json`), path.join(ws.dir, `${step}.prom`)];
    const child = spawn(BIN, ['run', cfg, '--quiet', '--report', report, '--metrics', metrics], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SLUICE_TEST_STOP_AT: step } });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    // The watcher inherits stderr to have the last word: closed once it is done.
    const closed = new Promise<void>((resolve) => child.stderr!.on('close', () => resolve()));
    expect(await killWhenStopped(child, `at ${step}`, 90_000)).toBe('SIGKILL');
    await closed;
    const r = JSON.parse(readFileSync(report, 'utf8'));
    const families = parseOpenMetrics(readFileSync(metrics, 'utf8'));
    const value = (name: string) => families.get(name)?.samples[0].value;
    expect(r).toMatchObject({ ok: false, error: { code: 'SLUICE_RUN_DIED' } });
    expect(value('sluice_run_success')).toBe(0);
    if (verdict === 'none') {
      expect([r.committed, r.commitPending, value('sluice_run_committed'), value('sluice_run_commit_pending')]).toEqual([undefined, undefined, 0, undefined]);
      expect(stderr).toContain('Nothing was committed');
    } else if (verdict === 'pending') {
      expect([r.committed, r.commitPending, value('sluice_run_committed'), value('sluice_run_commit_pending')]).toEqual([undefined, [a, b], 0, 1]);
      expect(stderr).toContain('Run `sluice recover`');
    } else {
      expect([r.committed, r.commitPending, value('sluice_run_committed'), value('sluice_run_commit_pending')]).toEqual([[a, b], undefined, 1, undefined]);
      expect(stderr).toContain('The output is complete and committed');
    }
    if (step === 'between-renames') {
      const rec = await runCli(['recover', cfg], { timeoutMs: 90_000 });
      expect(rec.stderr).toBe('');
      expect(rec.code).toBe(0);
    } else {
      expect((await recoverCommand({ config: cfg })).length).toBeGreaterThan(0);
    }
    // What the watcher said is what recover makes of it: nothing committed stays old; decided or committed is new.
    expect(await ids(dir)).toEqual(verdict === 'none' ? [[100], [200]] : [[1, 2, 3], [1, 2, 3]]);
  });
});
