/**
 * `npm run docs:sample`: writes what the docs show of sluice's own output, from sluice
 * itself: the CLI tables (README.md, docs/cli.md) from `--help`, and the quick start's
 * sample summary (docs/getting-started.md) from a run of the example job. Tests in
 * test/unit/docs/ check each is current.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliTables } from './cli-help';
import { REPO, replaceBetween } from './markdown';

/** The example job's printed summary, run into a scratch sink (out/ is left alone). */
export function exampleSummary(): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-docs-sample-'));
  try {
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/sluice.js'), 'run', 'pipeline.config.ts', '--sink-path', path.join(tmp, 'daily_totals.parquet'), '--log-level', 'warn'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    if (r.status !== 0) throw new Error(`the example job failed (exit ${r.status}): ${r.stderr}`);
    // The summary starts at its ✔ line; the path of the scratch sink is not the reader's business.
    const out = r.stderr.replace(/\x1b\[[0-9;]*m/g, '');
    const from = out.indexOf('✔');
    if (from < 0) throw new Error(`no summary in the example job's output:\n${out}`);
    return out.slice(from).split(tmp).join('out').split('\n').map((l) => l.trimEnd()).join('\n').trimEnd() + '\n';
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const SAMPLE_PAGE = path.join(REPO, 'docs/getting-started.md');

export function sampleBlock(summary: string): string {
  return '```\n' + summary + '```\n';
}

function rewrite(file: string, blocks: Map<string, string>): void {
  let text = readFileSync(file, 'utf8');
  for (const [name, body] of blocks) text = replaceBetween(text, name, body);
  writeFileSync(file, text);
}

async function main(): Promise<void> {
  const { readme, cli } = await cliTables();
  rewrite(path.join(REPO, 'README.md'), readme);
  rewrite(path.join(REPO, 'docs/cli.md'), cli);
  rewrite(SAMPLE_PAGE, new Map([['sample', sampleBlock(exampleSummary())]]));
  process.stdout.write('wrote the CLI tables (README.md, docs/cli.md) and the sample summary (docs/getting-started.md)\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`docs:sample: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
