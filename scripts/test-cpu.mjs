#!/usr/bin/env node
// Summarises test/cpu-ledger.cjs's ledger: CPU-s per test file (its start to the next file's
// start in the same jest worker), the most first, and the total.
import { readFileSync } from 'node:fs';

const lines = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const cpu = (m) => m.user + m.sys + m.cuser + m.csys;
const byPid = new Map();
for (const l of lines) (byPid.get(l.pid) ?? byPid.set(l.pid, []).get(l.pid)).push(l);
const files = [];
for (const marks of byPid.values()) {
  marks.sort((a, b) => a.t - b.t);
  const starts = marks.filter((m) => m.at === 'start');
  for (const [i, s] of starts.entries()) {
    const next = starts[i + 1] ?? marks.filter((m) => m.file === s.file && m.at === 'end').at(-1) ?? s;
    files.push({ file: s.file, cpu: cpu(next) - cpu(s), own: next.user + next.sys - s.user - s.sys, wall: (next.t - s.t) / 1000 });
  }
}
files.sort((a, b) => b.cpu - a.cpu);
const total = files.reduce((n, f) => n + f.cpu, 0);
const top = Number(process.argv[3] ?? 40);
for (const f of files.slice(0, top)) console.log(`${f.cpu.toFixed(1).padStart(7)} CPU-s (${f.own.toFixed(1).padStart(5)} in jest) ${f.wall.toFixed(1).padStart(6)} s  ${f.file}`);
console.log(`${total.toFixed(0)} CPU-s over ${files.length} files`);
