'use strict';
// The CPU-bound stages' work without sluice, on 1 thread, 2 worker threads of one process,
// or 2 processes: `sha256` is 8 rounds of node:crypto's sha256 per string (stages/sha.ts),
// `js` 3 rounds of the FNV hash of stages/fnv.ts (stages/js-hash.ts). Timed from the moment
// every thread or process is loaded and ready to the last one done, so start-up is not
// counted (as the stage runs are timed after start-up). Prints JSON { ms } on stdout.
//   node --import tsx bench/bare-hash.js <sha256|js> <one|threads|processes> <rows>
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const { fork } = require('node:child_process');
const path = require('node:path');

function step(work) {
  if (work === 'sha256') {
    const { hash } = require('node:crypto');
    return (h) => hash('sha256', h, 'hex');
  }
  const { fnvHex } = require(path.join(__dirname, 'stages', 'fnv.ts'));
  return (h, v) => fnvHex(h + v);
}

function run(work, from, to) {
  const next = step(work);
  const rounds = work === 'sha256' ? 8 : 3;
  return () => {
    let n = 0;
    for (let i = from; i < to; i++) {
      const v = `customer-${i}@example.com`;
      let h = v;
      for (let r = 0; r < rounds; r++) h = next(h, v);
      n += h.length;
    }
    return n;
  };
}

/** Starts `count` parts; each says 'ready' once loaded, then works on 'go' and says 'done'. */
function together(parts, done) {
  let ready = 0;
  let finished = 0;
  let t0 = 0;
  for (const part of parts) {
    part.on('message', (m) => {
      if (m === 'ready' && ++ready === parts.length) {
        t0 = performance.now();
        for (const p of parts) {
          if (p.send) p.send('go');
          else p.postMessage('go');
        }
      } else if (m === 'done' && ++finished === parts.length) {
        done(performance.now() - t0);
      }
    });
  }
}

const report = (ms) => process.stdout.write(JSON.stringify({ ms }) + '\n');

if (!isMainThread) {
  const work = run(workerData.work, workerData.from, workerData.to);
  parentPort.on('message', () => {
    work();
    parentPort.postMessage('done');
    parentPort.close();
  });
  parentPort.postMessage('ready');
} else if (process.argv[2] === 'part') {
  const work = run(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
  process.on('message', () => {
    work();
    process.send('done', () => process.exit(0));
  });
  process.send('ready');
} else {
  const [work, mode, rowsArg] = process.argv.slice(2);
  const rows = Number(rowsArg);
  const half = Math.floor(rows / 2);
  const halves = [
    [0, half],
    [half, rows],
  ];
  if (mode === 'one') {
    const all = run(work, 0, rows);
    const t0 = performance.now();
    all();
    report(performance.now() - t0);
  } else if (mode === 'threads') {
    together(
      halves.map(([from, to]) => new Worker(__filename, { workerData: { work, from, to } })),
      report,
    );
  } else if (mode === 'processes') {
    together(
      halves.map(([from, to]) => fork(__filename, ['part', work, String(from), String(to)])),
      report,
    );
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}
