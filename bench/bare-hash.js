'use strict';
// The CPU-bound stage's work without sluice: 8 rounds of sha256 (node:crypto) per string,
// on 1 thread, 2 worker threads of one process, or 2 processes. Prints JSON { ms } on stdout.
//   node bench/bare-hash.js <one|threads|processes> <rows>
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const { hash } = require('node:crypto');

function work(from, to) {
  let n = 0;
  for (let i = from; i < to; i++) {
    let h = `customer-${i}@example.com`;
    for (let r = 0; r < 8; r++) h = hash('sha256', h, 'hex');
    n += h.length;
  }
  return n;
}

if (!isMainThread) {
  parentPort.postMessage(work(workerData.from, workerData.to));
} else if (process.argv[2] === 'part') {
  work(Number(process.argv[3]), Number(process.argv[4]));
} else {
  const [mode, rowsArg] = process.argv.slice(2);
  const rows = Number(rowsArg);
  const half = Math.floor(rows / 2);
  const t0 = performance.now();
  const done = () => process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }) + '\n');
  if (mode === 'one') {
    work(0, rows);
    done();
  } else if (mode === 'threads') {
    let left = 2;
    for (const [from, to] of [[0, half], [half, rows]]) new Worker(__filename, { workerData: { from, to } }).on('message', () => --left === 0 && done());
  } else if (mode === 'processes') {
    // Started together, waited for together.
    let left = 2;
    for (const [from, to] of [[0, half], [half, rows]]) spawn(process.execPath, [__filename, 'part', String(from), String(to)], { stdio: 'ignore' }).on('exit', () => --left === 0 && done());
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}
