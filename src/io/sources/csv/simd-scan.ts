/**
 * The row scanner in WebAssembly SIMD (wasm/row-scan.c): the same state machine as
 * RowChunker's JavaScript scan, 64 bytes per step instead of one, for the common case.
 * The JavaScript scan stays the reference and words every error: on a ragged or too long row
 * the SIMD scan stops and the chunker re-scans those bytes in JavaScript.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_ROW_BYTES } from '../../../defaults';

/** The scanner's state, as RowChunker keeps it. */
export interface ScanState {
  inQuotes: boolean;
  fieldsInRow: number;
  rowHasBytes: boolean;
  line: number;
  rows: number;
  rowLine: number;
  quoteLine: number;
  /** Index where the current row starts in the bytes being scanned (negative: in an earlier buffer). */
  rowStart: number;
  /** Blank lines skipped in the chunk so far (a one-column file has none: its blank lines are null values). */
  blanks: number;
  /** The byte before the scan position is a delimiter, LF or quote (where a quote may open a field). */
  prevSep: boolean;
}

/** What the scanner is told of the file. */
export interface ScannerOptions {
  delimiter: number;
  quote: number;
  fields: number;
  /** Longest row allowed, in bytes without its line end (default MAX_ROW_BYTES). */
  maxRowBytes?: number;
}

export const SCAN_MORE = -1;
export const SCAN_RAGGED = -2;
export const SCAN_TOO_LONG = -3;
export const SCAN_BAD_QUOTE = -4;

/** The little of WebAssembly used here (the project's TypeScript libs leave the DOM types out). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer };
  scan(input: number, from: number, len: number): number;
  state_ptr(): number;
  input_ptr(): number;
}

let compiled: object | null | undefined;

function module(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new wasm.Module(readFileSync(path.join(__dirname, 'wasm', 'row-scan.wasm')));
    } catch {
      compiled = null; // no WebAssembly SIMD here: the JavaScript scan does the work
    }
  }
  return compiled;
}

/**
 * Scanners given back (`release`), for the next file: each instance has 8.5 MB of memory of
 * its own, and one per file made a source of 10 000 small files allocate 85 GB, most of its
 * run time going to garbage collection. A few are kept (files read at once: one per source).
 */
const free: SimdRowScanner[] = [];
const MAX_FREE = 4;

export class SimdRowScanner {
  private readonly x: Exports;
  private readonly state: Int32Array;
  private readonly input: number;
  /** Bytes of input the module's memory holds. */
  readonly capacity: number;
  private loaded: Uint8Array | undefined;
  private released = false;

  /** A scanner, or undefined where WebAssembly SIMD is not available or the bytes do not suit it. */
  static create(o: ScannerOptions): SimdRowScanner | undefined {
    const special = [10, 13];
    if (special.includes(o.delimiter) || special.includes(o.quote) || o.delimiter === o.quote) return undefined;
    const reused = free.pop();
    if (reused) return reused.configure(o);
    const m = module();
    return m ? new SimdRowScanner(new wasm.Instance(m).exports as Exports).configure(o) : undefined;
  }

  private constructor(x: Exports) {
    this.x = x;
    this.state = new Int32Array(x.memory.buffer, x.state_ptr(), 15);
    this.input = x.input_ptr();
    this.capacity = x.memory.buffer.byteLength - this.input;
  }

  private configure(o: ScannerOptions): this {
    this.released = false;
    this.loaded = undefined;
    this.state[8] = o.fields;
    this.state[9] = o.delimiter;
    this.state[10] = o.quote;
    this.state[12] = o.maxRowBytes ?? MAX_ROW_BYTES;
    return this;
  }

  /** Done with it (its file is read): the next file's chunker may take it. Once only; not used after. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.loaded = undefined;
    if (free.length < MAX_FREE) free.push(this);
  }

  /** Copy `bytes` in (once per pushed buffer); false when they do not fit. */
  load(bytes: Uint8Array): boolean {
    if (bytes.length > this.capacity) {
      this.loaded = undefined;
      return false;
    }
    new Uint8Array(this.x.memory.buffer, this.input, bytes.length).set(bytes);
    this.loaded = bytes;
    return true;
  }

  holds(bytes: Uint8Array): boolean {
    return this.loaded === bytes;
  }

  /**
   * Scans the loaded bytes from `from` with `s` as the state before; returns the index after
   * the chunk's last LF, SCAN_MORE (then `s` is advanced to the end), or SCAN_RAGGED,
   * SCAN_TOO_LONG or SCAN_BAD_QUOTE (`s` untouched: the JavaScript scan words the error).
   */
  scan(s: ScanState, from: number, rowsPerChunk: number): number {
    const st = this.state;
    st[0] = s.inQuotes ? 1 : 0;
    st[1] = s.fieldsInRow;
    st[2] = s.rowHasBytes ? 1 : 0;
    st[3] = s.line;
    st[4] = s.rows;
    st[5] = s.rowLine;
    st[6] = s.quoteLine;
    st[7] = rowsPerChunk;
    st[11] = s.rowStart;
    st[13] = s.blanks;
    st[14] = s.prevSep ? 1 : 0;
    const r = this.x.scan(this.input, from, this.loaded!.length);
    if (r < SCAN_MORE) return r; // SCAN_RAGGED, SCAN_TOO_LONG, SCAN_BAD_QUOTE
    s.inQuotes = st[0] !== 0;
    s.fieldsInRow = st[1];
    s.rowHasBytes = st[2] !== 0;
    s.line = st[3];
    s.rows = st[4];
    s.rowLine = st[5];
    s.quoteLine = st[6];
    s.rowStart = st[11];
    s.blanks = st[13];
    s.prevSep = st[14] !== 0;
    return r;
  }
}
