/**
 * Imports run one way (DESIGN.md). A value import against the arrows fails this test;
 * `import type` is free (it vanishes at run time), except that nothing may import cli/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
// The table (which areas each area may import values from) is shared with the lint zones.
import { ALLOWED, PACKAGES } from '../../lint/layers.cjs';

const SRC = path.resolve(__dirname, '../../src');

/** The area a file belongs to: first folder under src/, or the file name for top-level files. */
function area(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0] : rel[0].replace(/\.(ts|mjs)$/, '');
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (/\.(ts|mjs)$/.test(entry.name)) yield full;
  }
}

function valueImports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) out.push({ spec: m[3], typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(/(?:import|require)\(\s*'([^']+)'\s*\)/g)) out.push({ spec: m[1], typeOnly: false });
  return out.filter((i) => i.spec.startsWith('.'));
}

it('src/ imports follow the dependency direction', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = area(file);
    for (const imp of valueImports(file)) {
      const target = path.resolve(path.dirname(file), imp.spec);
      const to = area(target.endsWith('.ts') || target.endsWith('.mjs') ? target : `${target}.ts`);
      if (to === from) continue;
      if (to === 'cli') violations.push(`${path.relative(SRC, file)} imports cli (${imp.spec})`);
      else if (!imp.typeOnly && !(ALLOWED[from] ?? []).includes(to)) violations.push(`${path.relative(SRC, file)} → ${imp.spec} (${from} may not import ${to})`);
    }
  }
  expect(violations).toEqual([]);
});

it('a package one area alone may use (bullmq, ioredis: cluster/) is imported or required nowhere else, not even as a type', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const p of PACKAGES) {
      if (area(file) === p.only) continue;
      for (const name of p.names) {
        const spec = new RegExp(`(?:from\\s+|import\\(\\s*|require\\(\\s*)'${name}(?:/[^']*)?'`);
        if (spec.test(text)) violations.push(`${path.relative(SRC, file)} imports ${name} (only ${p.only}/ may)`);
      }
    }
  }
  expect(violations).toEqual([]);
});

it('protocol/ imports nothing of ours, not even types: the messages are plain data any side can read', () => {
  const violations: string[] = [];
  for (const file of files(path.join(SRC, 'protocol'))) {
    for (const imp of valueImports(file)) {
      const target = path.resolve(path.dirname(file), imp.spec);
      if (area(target.endsWith('.ts') ? target : `${target}.ts`) !== 'protocol') violations.push(`${path.relative(SRC, file)} → ${imp.spec}${imp.typeOnly ? ' (type)' : ''}`);
    }
  }
  expect(violations).toEqual([]);
});

it('every message union between main and a worker lives in protocol/, tagged by `type`', () => {
  const elsewhere: string[] = [];
  for (const file of files(SRC)) {
    if (area(file) === 'protocol') continue;
    const text = readFileSync(file, 'utf8');
    // a union of object literals tagged `op` or `type`, declared outside protocol/
    if (/^export type \w+(<[^>]*>)? =\s*(\/\*\*[^]*?\*\/\s*)?\|\s*\{\s*(op|type):/m.test(text)) elsewhere.push(path.relative(SRC, file));
  }
  expect(elsewhere).toEqual([]);
  for (const file of files(path.join(SRC, 'protocol'))) expect(readFileSync(file, 'utf8')).not.toMatch(/\{\s*op:/);
});

it('every thread and child the engine starts is started by supervisor/', () => {
  const starts: string[] = [];
  for (const file of files(SRC)) {
    const rel = path.relative(SRC, file);
    // a child's own I/O thread lives and dies inside its copy; the CLI's death watch is not an engine worker
    // cluster/ starts a redis-server and `sluice worker` processes for --cluster local: whole processes of their own, not copies
    if (area(file) === 'supervisor' || rel === path.join('worker', 'process-entry.ts') || area(file) === 'cli' || area(file) === 'cluster') continue;
    const text = readFileSync(file, 'utf8');
    if (/new (Worker|Piscina)\(/.test(text)) starts.push(rel);
    if (/\bspawn\(|\bfork\(/.test(text)) starts.push(rel);
  }
  expect(starts).toEqual([]);
});
