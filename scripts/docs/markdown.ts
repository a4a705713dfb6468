/**
 * The docs as the tests and `npm run docs:sample` read them: which files, their fenced code
 * blocks, their headings' anchors and their relative links. Plain text processing: the pages
 * are ours and follow a few rules (fences of three backticks, ATX headings).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { slugger } from './slug';

export const REPO = path.resolve(__dirname, '../..');

/** README, CHANGELOG and every page of docs/ (not the site's build, cache or generated API). */
export function docFiles(root = REPO): string[] {
  const pages = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      if (e.name.startsWith('.') || e.name === 'public' || e.name === 'node_modules') return [];
      const p = path.join(dir, e.name);
      return e.isDirectory() ? pages(p) : e.name.endsWith('.md') ? [p] : [];
    });
  return [path.join(root, 'README.md'), path.join(root, 'CHANGELOG.md'), ...pages(path.join(root, 'docs'))];
}

export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The reason given by `<!-- docs: no-typecheck (reason) -->` on the line before the fence. */
  optOut?: string;
}

export const OPT_OUT = /^<!-- docs: no-typecheck \((.+)\) -->$/;

/** Fenced blocks, in order. */
export function codeBlocks(file: string, text = readFileSync(file, 'utf8')): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[i]); i++) body.push(lines[i].slice(indent.length));
    const marker = OPT_OUT.exec((lines[start - 1] ?? '').trim());
    blocks.push({ file, line: start + 1, lang: open[2], code: body.join('\n'), optOut: marker?.[1] });
  }
  return blocks;
}

/** The text outside fenced blocks, line by line (blank where a block was, so numbers hold). */
export function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((l) => {
    if (/^\s*```/.test(l)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : l;
  });
}

/** The anchors of a page's headings, as GitHub (and the site) make them. */
export function anchors(text: string): Set<string> {
  const next = slugger();
  const out = new Set<string>();
  for (const l of prose(text)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (h) out.add(next(h[1]));
  }
  return out;
}

export interface Link {
  line: number;
  target: string;
}

/** Markdown links and images outside code (inline code spans skipped too). */
export function links(text: string): Link[] {
  const out: Link[] = [];
  prose(text).forEach((l, i) => {
    const bare = l.replace(/`[^`]*`/g, '');
    for (const m of bare.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ line: i + 1, target: m[1] });
  });
  return out;
}

/** Replaces what lies between `<!-- name: … -->` and `<!-- end of name -->` (the markers stay). */
export function replaceBetween(text: string, name: string, body: string): string {
  const start = new RegExp(`(<!-- ${name}: [^\\n]*-->\\n)[\\s\\S]*?(<!-- end of ${name} -->)`);
  if (!start.test(text)) throw new Error(`no "<!-- ${name}: … -->" … "<!-- end of ${name} -->" markers`);
  return text.replace(start, (_all, open: string, close: string) => `${open}${body}${close}`);
}

/** What lies between the markers, or undefined. */
export function between(text: string, name: string): string | undefined {
  return new RegExp(`<!-- ${name}: [^\\n]*-->\\n([\\s\\S]*?)<!-- end of ${name} -->`).exec(text)?.[1];
}
