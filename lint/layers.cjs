// The dependency direction of ../shared/DESIGN.md as data, read by both enforcers:
// eslint.config.mjs (import-x/no-restricted-paths zones, run by `npm test` before jest)
// and test/unit/architecture.test.ts. Change it here, once, and only where DESIGN allows.
//
// An area is a folder under src/, or a top-level file (its name without extension).
// Value imports are checked; `import type` may cross (it vanishes at run time), except
// that nothing imports cli/, not even a type.

/** Which areas each area may import values from (besides itself); an area not listed may import none. */
const ALLOWED = {
  errors: [],
  // What a config means where it says nothing, and the figures every layer must agree on.
  defaults: [],
  log: [],
  protocol: [],
  batch: ['errors'],
  // CSV text → typed columns (chunk parsing, type inference): pure data, run wherever a chunk is parsed
  csv: ['batch', 'errors'],
  config: ['errors', 'inputs', 'defaults', 'loader'],
  plan: ['config', 'errors', 'defaults'],
  // one supervisor for every thread and child the engine starts (stage threads and children, the
  // source and encoder threads): a child copy speaks the frame protocol (protocol/, batch/framing)
  // and forwards its output as log lines, so those three come with it
  supervisor: ['loader', 'defaults', 'errors', 'batch', 'protocol', 'log'],
  io: ['csv', 'batch', 'defaults', 'errors', 'log', 'inputs', 'loader', 'supervisor', 'arrow-bundle'],
  worker: ['csv', 'batch', 'protocol', 'errors', 'log', 'loader', 'arrow-bundle'],
  executors: ['csv', 'worker', 'protocol', 'batch', 'defaults', 'errors', 'log', 'loader', 'supervisor'],
  // stages sluice adds to the topology (Parquet encoding): executors built on io/
  operators: ['csv', 'io', 'batch', 'defaults', 'errors', 'log', 'supervisor'],
  runtime: ['csv', 'plan', 'executors', 'operators', 'io', 'batch', 'defaults', 'log', 'errors'],
  check: ['config', 'plan', 'io', 'worker', 'defaults', 'errors', 'inputs'],
  // stage tests (sluice/testing, `sluice test`): stages hosted by executors/ as in a run
  testing: ['config', 'plan', 'check', 'executors', 'worker', 'batch', 'defaults', 'errors', 'log', 'loader', 'inputs'],
  // past one machine (BullMQ on Redis): the driver, the workers, the commit job; runs units through runtime/
  cluster: ['config', 'plan', 'check', 'runtime', 'io', 'worker', 'defaults', 'log', 'errors'],
  cli: ['config', 'plan', 'check', 'runtime', 'io', 'executors', 'batch', 'defaults', 'log', 'errors', 'loader', 'worker', 'testing', 'cluster', 'arrow-bundle'],
  index: ['config', 'worker', 'errors', 'plan', 'check', 'runtime', 'log'],
  // the TS loader; past its hook, sluice's own CommonJS loads with Node's loader (own-js)
  loader: ['own-js'],
  'own-js': [],
  // built sluice's one-file apache-arrow, installed first by each entry (CLI, stage thread and child, source and encoder threads)
  'arrow-bundle': [],
  inputs: [],
  register: [],
  'alias-hooks': [],
};

/**
 * Folders inside one area that must not import each other (types included: what they
 * share lives in a neutral folder beside them).
 */
const INNER = [
  { target: 'io/sinks', from: ['io/sources'], why: 'a sink never reads a source; CSV code both need lives in csv/' },
  { target: 'io/sources', from: ['io/sinks'], why: 'a source never writes a sink' },
  { target: 'csv', from: ['io'], why: 'csv/ is shared by sources, sinks and stage workers, so it imports nothing of io/' },
  { target: 'io/parquet', from: ['io/sources', 'io/sinks'], why: 'io/parquet/ is shared by sources and sinks, so it imports neither' },
];

/**
 * Packages only one area may import (values or types): the others never load them, so a run
 * without that feature pays nothing for it (`--help`, an embedded run).
 */
const PACKAGES = [{ names: ['bullmq', 'ioredis'], only: 'cluster', why: 'only cluster mode talks to Redis: an embedded run and --help must not load them' }];

module.exports = { ALLOWED, INNER, PACKAGES };
