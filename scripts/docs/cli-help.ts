/**
 * `sluice --help` as data, and the Markdown tables the docs show of it. The README's and
 * docs/cli.md's tables are written from this (`npm run docs:sample`) and a test checks they
 * are what `--help` says today, so the two cannot drift.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { REPO } from './markdown';

export interface HelpEntry {
  /** `sluice run [config]`, or `--mode`. */
  name: string;
  description: string;
}

/** What `sluice <args> --help` prints (at yargs' 80 columns: no terminal here). */
export async function helpText(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO, 'bin/sluice.js'), ...args, '--help'], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    return stdout;
  } catch (err) {
    throw new Error(`sluice ${args.join(' ')} --help failed: ${(err as Error).message}`, { cause: err });
  }
}

/** The entries of one section (`Commands:`, `Options:`), continuation lines joined. */
export function section(text: string, title: string): HelpEntry[] {
  const lines = text.split('\n');
  const at = lines.indexOf(`${title}:`);
  if (at < 0) return [];
  const entries: { head: string; rest: string[] }[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') break;
    if (/^ {2}\S/.test(line)) entries.push({ head: line.trim(), rest: [] });
    else entries.at(-1)?.rest.push(line.trim());
  }
  return entries.map(({ head, rest }) => {
    // The name ends where two spaces begin (`sluice run [config]  run a pipeline`).
    const split = /^(.+?)(?: {2,}(.*))?$/.exec(head)!;
    const text = [split[2] ?? '', ...rest].join(' ').trim();
    return { name: split[1], description: describe(text) };
  });
}

/** yargs' `[string] [choices: "a", "b"] [default: 4]` as words; the type itself is left out. */
function describe(text: string): string {
  const notes: string[] = [];
  const plain = text.replace(/\s*\[(\w+)(?::\s*([^\]]*))?\]/g, (_all, key: string, value?: string) => {
    if (key === 'choices' && value) notes.push(`one of ${value.replace(/"/g, '')}`);
    if (key === 'default' && value) notes.push(`default ${value.replace(/"/g, '')}`);
    return '';
  });
  return [plain.trim(), notes.length ? `(${notes.join('; ')})` : ''].filter(Boolean).join(' ');
}

export const COMMON = new Set(['--version', '--help']);

/** The commands, from `sluice --help`. */
export async function commands(): Promise<HelpEntry[]> {
  return section(await helpText([]), 'Commands');
}

/** A command's own options (not --help / --version). */
export async function options(command: string): Promise<HelpEntry[]> {
  return section(await helpText([command]), 'Options').filter((o) => !COMMON.has(o.name));
}

/** A table cell's text: `|` would end the cell, `<x>` would be read as an HTML tag (by VitePress's Vue too). */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;');

export function commandTable(entries: HelpEntry[]): string {
  return ['| command | what it does |', '|---|---|', ...entries.map((e) => `| \`${cell(e.name)}\` | ${cell(e.description)} |`)].join('\n') + '\n';
}

export function optionTable(entries: HelpEntry[]): string {
  return ['| option | what it does |', '|---|---|', ...entries.map((e) => `| \`${e.name}\` | ${cell(e.description)} |`)].join('\n') + '\n';
}

/** Every generated table: marker name → Markdown, for README.md and docs/cli.md. */
export async function cliTables(): Promise<{ readme: Map<string, string>; cli: Map<string, string> }> {
  const cmds = await commands();
  const names = cmds.map((c) => c.name.split(' ')[1]);
  // One process per command, all at once: each loads only yargs.
  const opts = await Promise.all(names.map(async (n) => [`cli-${n}`, optionTable(await options(n))] as [string, string]));
  const readme = new Map([
    ['cli-commands', commandTable(cmds)],
    ['cli-run', opts.find(([k]) => k === 'cli-run')![1]],
  ]);
  const cli = new Map([['cli-commands', commandTable(cmds)], ...opts]);
  return { readme, cli };
}
