'use strict';
// The CPU-bound stages' work without sluice, on 1 thread, 2 worker threads of one process,
// or 2 processes: `sha256` is 8 rounds of node:crypto's sha256 per string (stages/sha.ts),
// `js` 3 rounds of the FNV hash of stages/fnv.ts (stages/js-hash.ts). Two more show what two
// cores give any work on this machine: `alu`, integer arithmetic only (no memory), and `map`,
// the obvious aggregate's per-row work (bench/obvious/daily-stage.ts: a Map per (day, origin)
// and a Set of routes in each, keys in random order), memory-bound. Timed from the moment
// every thread or process is loaded and ready to the last one done, so start-up is not
// counted (as the stage runs are timed after start-up). Prints JSON { ms } on stdout.
//   node --import tsx bench/bare-hash.js <sha256|js|alu|map> <one|threads|processes> <rows>
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
  if (work === 'alu') return alu(from, to);
  if (work === 'map') return aggregate(from, to);
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

function alu(from, to) {
  return () => {
    let x = 0;
    for (let i = from; i < to; i++) for (let r = 0; r < 200; r++) x = (x * 31 + i + r) | 0;
    return x;
  };
}

/** 365 days × 300 origins, 5,000 routes (64-character hex, as the flights stage makes them), drawn by a fixed LCG per row. */
function aggregate(from, to) {
  const { createHash } = require('node:crypto');
  const days = Array.from({ length: 365 }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 864e5).toISOString().slice(0, 10));
  const origins = Array.from({ length: 300 }, (_, i) => `O${String(i).padStart(2, '0')}`);
  const routes = Array.from({ length: 5000 }, (_, i) => createHash('sha256').update(`r${i}`).digest('hex'));
  return () => {
    const groups = new Map();
    let seed = from + 1;
    const draw = (n) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let i = from; i < to; i++) {
      const day = days[draw(365)];
      const origin = origins[draw(300)];
      const key = `${day}|${origin}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { day, origin, flights: 0, delay: 0, routes: new Set() }));
      g.flights++;
      g.delay += i;
      g.routes.add(routes[draw(5000)]);
    }
    return groups.size;
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
