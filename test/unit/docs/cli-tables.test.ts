/**
 * The CLI tables in README.md and docs/cli.md are what `sluice --help` says today (they are
 * written by `npm run docs:sample`; run it after changing a command or an option).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cliTables, section } from '../../../scripts/docs/cli-help';
import { between, REPO } from '../../../scripts/docs/markdown';
import { requireBuild } from '../../helpers/package';

let tables: Awaited<ReturnType<typeof cliTables>>;
beforeAll(async () => {
  requireBuild();
  tables = await cliTables();
});

const page = (rel: string) => readFileSync(path.join(REPO, rel), 'utf8');

it.each([
  ['README.md', 'readme'],
  ['docs/cli.md', 'cli'],
] as const)('%s: every CLI table matches --help (npm run docs:sample rewrites them)', (rel, which) => {
  const text = page(rel);
  const wanted = tables[which];
  expect(wanted.size).toBeGreaterThan(0);
  for (const [name, table] of wanted) expect({ name, table: between(text, name) }).toEqual({ name, table });
});

it('docs/cli.md has a table for every command --help lists', () => {
  expect([...tables.cli.keys()]).toEqual(['cli-commands', 'cli-run', 'cli-worker', 'cli-validate', 'cli-explain', 'cli-inspect', 'cli-init', 'cli-test', 'cli-recover', 'cli-status', 'cli-cancel']);
});

it('reads yargs help: continuation lines joined, types dropped, choices and defaults kept', () => {
  const help = [
    'Options:',
    '  --mode         override a stage mode: <stage>=<inline|thread|process>',
    '                 (repeatable)                                            [array]',
    '  --log-level',
    '          [string] [choices: "trace", "debug"] [default: "info"]',
    '',
  ].join('\n');
  expect(section(help, 'Options')).toEqual([
    { name: '--mode', description: 'override a stage mode: <stage>=<inline|thread|process> (repeatable)' },
    { name: '--log-level', description: '(one of trace, debug; default info)' },
  ]);
});
