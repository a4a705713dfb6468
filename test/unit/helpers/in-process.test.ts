/**
 * test/helpers/in-process.ts makes `explain`'s text without a CLI child: it must be what
 * `sluice explain` prints, byte for byte, for a plan with pushdown, fusion and a warning; and
 * `inspect`'s exit code, stdout and stderr what `sluice inspect` gives, on success and on bad
 * options.
 */
import path from 'node:path';
import { runCli } from '../../helpers/cli';
import { explainInProcess, inspectInProcess } from '../../helpers/in-process';
import { FIXTURE_STAGES, workspace, writeNumbersCsv } from '../../helpers/workspace';

it('explainInProcess gives what `sluice explain` prints', async () => {
  const ws = workspace();
  try {
    writeNumbersCsv(path.join(ws.dir, 'in.csv'), 300);
    const probe = (name: string, out: string, reads: string[]) => ({ name, module: path.join(FIXTURE_STAGES, 'reads-probe.ts'), mode: 'thread', concurrency: 2, options: { seenFile: path.join(ws.dir, 'seen'), out, reads } });
    const file = ws.config({
      name: 'explained',
      // batchRows 100: the tiny-batch warning follows the plan
      source: { format: 'csv', path: 'in.csv', batchRows: 100 },
      stages: [probe('a', 'add', ['x']), probe('b', 'pick', ['id', 'x2', 'day'])],
      sink: { format: 'parquet', path: 'out/explained.parquet' },
    });
    const cli = await runCli(['explain', file]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('left out');
    expect(cli.stdout).toContain('a+b');
    expect(cli.stdout).toContain('batchRows');
    expect(await explainInProcess(file)).toBe(cli.stdout);
  } finally {
    ws.cleanup();
  }
});

it('inspectInProcess gives what `sluice inspect` gives: exit code, stdout, stderr', async () => {
  const ws = workspace();
  try {
    writeNumbersCsv(path.join(ws.dir, 'in.csv'), 30);
    for (const args of [['in.csv', '--rows', '2', '--columns', 'x', 'id'], ['in.csv', '--delimiter', ';;', '--rows', '-1', '--schema', 'x']]) {
      const cli = await runCli(['inspect', ...args], { cwd: ws.dir });
      const here = await inspectInProcess(args, ws.dir);
      expect(here).toEqual({ code: cli.code, signal: null, stdout: cli.stdout, stderr: cli.stderr });
    }
  } finally {
    ws.cleanup();
  }
});
