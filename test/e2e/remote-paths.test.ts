/**
 * A URL (s3://, gs://, https://) where a path goes is named as a remote path, not supported
 * yet: in the config's source and sink, on the command line (--source-path, --sink-path), for
 * `inspect` and `recover`. Before, it was "no file matches s3:/bucket/…" for an input, and an
 * output would have made a local folder named `s3:`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-remote-');
});
afterAll(() => ws.cleanup());

const remote = (where: string, url: string, scheme: string) => `✖ ${where}: "${url}" is a remote path (${scheme}://): remote paths are not supported yet`;

it.each(['validate', 'run', 'explain'])('%s: the config source and sink, each named with its config path; nothing is written', async (command) => {
  const config = ws.config({ name: 'r', source: { format: 'csv', path: 's3://bucket/in/*.csv' }, stages: [], sink: { format: 'parquet', path: 'S3://bucket/out.parquet' } });
  const r = await runCli([command, config, ...(command === 'run' ? ['--quiet'] : [])], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(remote('source.path', 's3://bucket/in/*.csv', 's3'));
  expect(r.stderr).toContain(remote('sink.path', 'S3://bucket/out.parquet', 's3'));
  expect(r.stderr).not.toMatch(/no file matches/);
  expect(existsSync(path.join(ws.dir, 'S3:'))).toBe(false);
});

it('run: --source-path and --sink-path URLs, named as given (not resolved against the working directory)', async () => {
  const config = ws.config({ name: 'r', source: { format: 'csv', path: 'in.csv' }, stages: [], sink: { format: 'csv', path: 'out/o.csv' } }, 'cli.config.ts');
  const r = await runCli(['run', config, '--quiet', '--source-path', 'https://example.com/a.csv', '--sink-path', 'gs://b/o.parquet'], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(remote('--source-path', 'https://example.com/a.csv', 'https'));
  expect(r.stderr).toContain('"gs://b/o.parquet" is a remote path (gs://)');
  expect(existsSync(path.join(ws.dir, 'gs:'))).toBe(false);
});

it('inspect and recover say the same', async () => {
  const i = await runCli(['inspect', 's3://bucket/x.parquet'], { cwd: ws.dir });
  expect(i.code).toBe(1);
  expect(i.stderr).toContain('"s3://bucket/x.parquet" is a remote path (s3://): remote paths are not supported yet');
  const config = ws.config({ name: 'r', source: { format: 'csv', path: 'in.csv' }, stages: [], sink: { format: 'csv', path: 's3://bucket/o.csv' } }, 'rec.config.ts');
  const r = await runCli(['recover', config], { cwd: ws.dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(remote('sink.path', 's3://bucket/o.csv', 's3'));
  expect(existsSync(path.join(ws.dir, 's3:'))).toBe(false);
});
