/**
 * csv/strict.ts's scan in WebAssembly (wasm/text-check.c): the JavaScript scan's walk and
 * quick look, 16 bytes per step to each field's end. The chunk's rows are copied into the
 * module's memory a window at a time (WINDOW); a field the quick look cannot settle comes
 * back here and goes to the judge's exact rules, as in the reference scan (strict-scan.ts),
 * so both refuse the same values at the same place with the same words.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QUICK_OTHER, type ChunkBytes, type Judge } from './strict-judge';

/** The little of WebAssembly used here (the project's TypeScript libs leave the DOM types out). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  run(text: number, byField: number, rules: number): number;
  state_ptr(): number;
  heap_base(): number;
}

/** `run`'s answers and the state's slots, as wasm/text-check.c lays them out. */
const SLOW = 1;
const S = { pos: 0, field: 1, line: 2, n: 3, delimiter: 4, quote: 5, last: 6, k: 7, start: 8, stop: 9, atLine: 10, quoted: 11, more: 12 } as const;
const STATE_SLOTS = 13;

/**
 * Bytes of the chunk in the module's memory at a time. The whole chunk once went in (a plain
 * conversion's is 26 MB), and in a real run that copy cost more than the scan: the memory
 * grew to it in every thread (each new page a fault the first time: ~120 ms a thread), a copy
 * out of shared memory went byte by byte when the two places were not equally aligned (V8's
 * relaxed copy; ~0.6 ns a byte, 16 ms a chunk), and the scan then read 26 MB back from RAM. A
 * window that stays in the core's cache, copied word by word, scanned, then the next: and each
 * call of `run` is short, so V8's optimised code (swapped in only between calls) takes over at
 * once instead of after a thread's first chunk. A field longer than the window gets a larger one.
 */
export const WINDOW = 128 * 1024;
/** One rule: kind, len, zoned, nsYears (int32 each), then SHAPE_MAX bytes of shape. */
const RULE_BYTES = 64;
const SHAPE_MAX = 48;
/** Readable bytes after the text: a 16-byte look from its last byte stays in memory. */
const PAD = 64;
const PAGE = 65536;

let instance: Exports | null | undefined;

/** The module's instance (one per thread, kept: its memory holds a window of text, larger only for a longer field), or null without WebAssembly SIMD. */
function loaded(): Exports | null {
  if (instance === undefined) {
    try {
      const m = new wasm.Module(readFileSync(path.join(__dirname, 'wasm', 'text-check.wasm')));
      instance = new wasm.Instance(m).exports as Exports;
    } catch {
      instance = null; // no WebAssembly SIMD here: the JavaScript scan does the work
    }
  }
  return instance;
}

/** True where this scan can run (else checkChunkText uses the JavaScript scan). */
export function wasmScanAvailable(): boolean {
  return loaded() !== null;
}

const align = (n: number) => (n + 15) & ~15;

/** The module's memory in bytes (0 before it is loaded): what the scan keeps per thread (tests). */
export function wasmScanMemoryBytes(): number {
  return instance ? instance.memory.buffer.byteLength : 0;
}

/**
 * Scans the chunk as strict-scan.ts's scanJs does, throwing the judge's error for the first
 * value that breaks its rule. Returns how many windows it copied in, or 0 when it cannot run
 * here (no WebAssembly SIMD, or a delimiter or quote beyond ASCII, which a byte cannot stand
 * for): then nothing was checked. `window`: WINDOW, smaller in tests to put edges everywhere.
 */
export function scanWasm(chunk: ChunkBytes, judge: Judge, sep: string, quote: string, window = WINDOW): number {
  const delimiter = sep.charCodeAt(0);
  const q = quote.charCodeAt(0);
  if (!(delimiter < 128 && q < 128)) return 0;
  const x = loaded();
  if (!x) return 0;
  const fields = judge.check.fields;
  const last = fields[fields.length - 1].field;
  const rows = chunk.text.subarray(chunk.prefixLength);

  // Layout after the module's own data: field → rule index, the rules, the window and its pad.
  const byFieldAt = align(x.heap_base());
  const rulesAt = align(byFieldAt + 4 * (last + 1));
  const windowAt = align(rulesAt + RULE_BYTES * fields.length);
  let buffer = room(x, windowAt + 16 + Math.min(window, rows.length) + PAD);

  const byField = new Int32Array(buffer, byFieldAt, last + 1).fill(-1);
  fields.forEach((f, k) => (byField[f.field] = k));
  for (let k = 0; k < fields.length; k++) writeRule(buffer, rulesAt, judge, k);

  let st = new Int32Array(buffer, x.state_ptr(), STATE_SLOTS);
  st[S.field] = 0;
  st[S.line] = chunk.firstLine;
  st[S.delimiter] = delimiter;
  st[S.quote] = q;
  st[S.last] = last;
  let from = 0; // the window's first byte in `rows`
  let size = window;
  let windows = 0;
  for (;;) {
    const to = Math.min(rows.length, from + size);
    // At the source's place within 16 bytes: a copy out of shared memory (an encoder's or a
    // copy's slot) goes word by word only between equally aligned places, else byte by byte.
    const textAt = windowAt + ((rows.byteOffset + from) & 15);
    if (textAt + (to - from) + PAD > buffer.byteLength) {
      buffer = room(x, textAt + (to - from) + PAD);
      st = new Int32Array(buffer, x.state_ptr(), STATE_SLOTS);
    }
    new Uint8Array(buffer, textAt, to - from).set(rows.subarray(from, to));
    new Uint8Array(buffer, textAt + (to - from), PAD).fill(0); // what a look past the end sees: the same every time
    windows++;
    st[S.pos] = 0;
    st[S.n] = to - from;
    st[S.more] = to < rows.length ? 1 : 0;
    while (x.run(textAt, byFieldAt, rulesAt) === SLOW) {
      const k = st[S.k];
      const at = chunk.prefixLength + from;
      const raw = chunk.text.toString('utf8', at + st[S.start], at + st[S.stop]);
      const value = st[S.quoted] ? raw.split(quote + quote).join(quote) : raw;
      if (judge.slow(k, value, st[S.atLine])) writeRule(buffer, rulesAt, judge, k);
    }
    if (to === rows.length) return windows; // the last window: `run` went to its end (DONE)
    // DONE at the window's end, or MORE at a field it does not show the end of: go on from
    // there (st.pos); a field longer than the window gets a window twice the size.
    const next = from + st[S.pos];
    size = next === from ? size * 2 : window;
    from = next;
  }
}

/** The module's memory, grown to `bytes` at least (growing replaces its buffer: views are taken after). */
function room(x: Exports, bytes: number): ArrayBuffer {
  const have = x.memory.buffer.byteLength;
  if (bytes > have) x.memory.grow(Math.ceil((bytes - have) / PAGE));
  return x.memory.buffer;
}

/** Rule `k` as the module reads it: the quick look's kind, and the shape's bytes for a datetime. */
function writeRule(buffer: ArrayBuffer, rulesAt: number, judge: Judge, k: number): void {
  const at = rulesAt + RULE_BYTES * k;
  const head = new Int32Array(buffer, at, 4);
  const shape = judge.shapes[k];
  const kind = judge.quick[k];
  // A shape longer than the module holds: every value to the exact rules (never seen: datetimes are ~30 bytes).
  head[0] = shape && shape.bytes.length > SHAPE_MAX ? QUICK_OTHER : kind;
  head[1] = shape?.bytes.length ?? 0;
  head[2] = shape?.zoned ? 1 : 0;
  head[3] = shape?.nsYears ? 1 : 0;
  if (shape && shape.bytes.length <= SHAPE_MAX) new Uint8Array(buffer, at + 16, shape.bytes.length).set(shape.bytes);
}
