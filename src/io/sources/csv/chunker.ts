/**
 * Cuts a byte stream of CSV into chunks of whole rows, `rows` rows each, respecting quotes
 * (a quoted field may hold delimiters, doubled quotes and CR/LF). While scanning it checks
 * that every row has the header's number of fields, which polars does not (it silently
 * truncates long rows and pads short ones with nulls).
 *
 * It also skips blank lines (except in a one-column file, where each is a null value), refuses
 * a row longer than `maxRowBytes` as soon as it has read that far (so one huge line never
 * fills memory) and a quote opening inside an unquoted field (`a,b"c`), which would make the
 * scan and polars disagree on where rows end.
 *
 * Physical line numbers (1-based, counting the header) are tracked for error messages.
 *
 * Chunks are assembled in one reused buffer behind a fixed prefix (the header line polars
 * needs in front of every chunk): fresh memory per chunk costs ~10× a warm copy here. So a
 * chunk is valid only until the chunker runs again: take each one before pulling the next.
 */
import { MAX_ROW_BYTES } from '../../../defaults';
import { SourceError } from '../../../errors';
import { physicalLine, stripBlankLines } from '../../../csv/blank-lines';
import { SCAN_MORE, SimdRowScanner, type ScanState } from './simd-scan';

export interface RowChunk {
  /** The prefix, then whole rows, each ending in LF (the last row of a file may lack it). */
  text: Buffer;
  /** The rows alone (a view of `text`). */
  bytes: Buffer;
  rows: number;
  /** Physical line number of the chunk's first row. */
  firstLine: number;
  /** Physical lines of the blank lines removed from `text` (ascending), if any. */
  skippedLines?: number[];
  /** `keepRagged`: the rows with another number of fields than the header (they are in `text`, for the reader to take out). */
  ragged?: { line: number; found: number }[];
  /** With `ownChunks`: gives the chunk's buffer back to the chunker for reuse (once, when done with it). */
  recycle?: () => void;
}

/** Spare buffers kept for reuse: a plain conversion holds at most a few chunks at once (channel + slots). */
const MAX_SPARE = 8;
/**
 * Buffers chunks gave back (`ownChunks`), shared by every chunker: reused, so steady state
 * allocates nothing, also from file to file (a chunker per file, each allocating two 64 KiB
 * buffers of its own, churned 1.3 GB over 10 000 small files).
 */
const spare: Buffer[] = [];

/** A buffer of at least `bytes`: a spare one if one is big enough, else a new one. */
function spareOf(bytes: number): Buffer {
  const at = spare.findIndex((b) => b.length >= bytes);
  return at >= 0 ? spare.splice(at, 1)[0] : Buffer.allocUnsafe(bytes);
}

export interface ChunkerOptions {
  file: string;
  rowsPerChunk: number;
  fields: number;
  delimiter: number;
  quote: number;
  /** Physical line of the first byte the chunker will see. */
  firstLine: number;
  /** Bytes put in front of every chunk's rows (e.g. a header line). */
  prefix?: Buffer;
  /**
   * A chunk that has reached this many bytes of rows ends at the next row end, even short of
   * `rowsPerChunk` (wide rows would otherwise make huge chunks); checked once per `push`, so
   * a chunk may pass it by one pushed block.
   */
  maxChunkBytes?: number;
  /** The first chunk is not cut short before this many rows (those types are inferred from). */
  minRows?: number;
  /** Longest row allowed, in bytes without its line end (`source.maxRowBytes`; default MAX_ROW_BYTES). */
  maxRowBytes?: number;
  /** Column names, for messages (default: field numbers only). */
  columns?: string[];
  /** Scan with WebAssembly SIMD where available (default true; the JavaScript scan is the reference). */
  simd?: boolean;
  /**
   * Each chunk keeps its buffer (its consumer holds chunks past the next one: a plain
   * conversion's chunks wait in a channel), and gives it back with `recycle` once done with
   * it; the chunker reuses what comes back. Otherwise a chunk is valid until the next is taken.
   */
  ownChunks?: boolean;
  /**
   * A row with another number of fields than the header is kept in its chunk and listed in
   * `RowChunk.ragged` instead of failing the read (`source.onError`: the reader takes it out).
   */
  keepRagged?: boolean;
  /**
   * A row longer than `maxRowBytes` is cut out of its chunk and told here once it has ended
   * (its first line, and its first LONG_ROW_HEAD bytes), instead of failing the read
   * (`source.onError`); its physical lines count as skipped lines, so later rows keep their
   * numbers. Its bytes are never held beyond that head, however long it is.
   */
  onLongRow?: (line: number, head: Buffer) => void;
}

/** Bytes of an over-long row kept for `onLongRow` (the rejects' `raw`). */
export const LONG_ROW_HEAD = 1024;
/** scanJs: an over-long row ended (onLongRow): `cut` says where; push drops it and scans on. */
const SCAN_CUT = -10;

const LF = 10;
const CR = 13;

export class RowChunker {
  /** The chunk being assembled: prefix, then the rows seen so far. */
  private assembly: Buffer;
  private assembled: number;
  private readonly prefixBytes: number;
  /** Where the scan is: quotes, the current row, lines (shared by both scanners). */
  private readonly s: ScanState;
  /** Line where the current (incomplete) chunk starts. */
  private chunkLine: number;
  private readonly simd: SimdRowScanner | undefined;
  private readonly maxRowBytes: number;

  /** Ragged rows of the chunk being assembled (`keepRagged`). */
  private raggedRows: { line: number; found: number }[] = [];
  /** Physical lines of over-long rows cut from the chunk being assembled (`onLongRow`). */
  private cutLines: number[] = [];
  /** An over-long row being cut (`onLongRow`): its first line and head; its bytes are not appended while it goes on. */
  private long: { line: number; head: Buffer } | undefined;
  /** Where the over-long row that just ended lies in the pushed bytes (SCAN_CUT): from its start (may be negative: an earlier push) to after its LF. */
  private cut: { rowStart: number; to: number; line: number; lastLine: number } | undefined;

  constructor(private readonly o: ChunkerOptions) {
    this.o = { ...o };
    this.maxRowBytes = o.maxRowBytes ?? MAX_ROW_BYTES;
    const prefix = o.prefix ?? Buffer.alloc(0);
    this.prefixBytes = prefix.length;
    this.assembly = spareOf(Math.max(64 * 1024, prefix.length * 2));
    prefix.copy(this.assembly);
    this.assembled = prefix.length;
    this.chunkLine = o.firstLine;
    this.s = { inQuotes: false, fieldsInRow: 1, rowHasBytes: false, line: o.firstLine, rows: 0, rowLine: o.firstLine, quoteLine: 0, rowStart: 0, blanks: 0, prevSep: true };
    this.simd = o.simd === false ? undefined : SimdRowScanner.create({ ...o, maxRowBytes: this.maxRowBytes });
  }

  /** Physical line of the next byte to scan. */
  get line(): number {
    return this.s.line;
  }

  /** Later chunks may have another size (the first one also feeds schema inference). */
  setRowsPerChunk(rows: number): void {
    this.o.rowsPerChunk = rows;
  }

  /** Rows the chunk being assembled may reach: fewer once it holds `maxChunkBytes`. */
  private rowLimit(): number {
    const { maxChunkBytes, minRows = 1, rowsPerChunk } = this.o;
    if (maxChunkBytes === undefined || this.assembled - this.prefixBytes < maxChunkBytes) return rowsPerChunk;
    return Math.min(rowsPerChunk, Math.max(this.s.rows + 1, minRows));
  }

  /**
   * Feed bytes; yields the chunks completed by them, each valid until the generator
   * resumes. `data` may be reused by the caller once the generator is done.
   */
  *push(data: Buffer): Generator<RowChunk> {
    // A plain Uint8Array view: indexing a Buffer subclass is slower in V8's hot loops.
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    this.simd?.load(bytes);
    let start = 0;
    for (let end = this.scan(bytes, 0); end >= 0 || end === SCAN_CUT; end = this.scan(bytes, start)) {
      if (end === SCAN_CUT) {
        start = this.dropLong(data, start);
        continue;
      }
      this.append(data, start, end);
      start = end;
      yield this.take();
    }
    if (this.long || (this.o.onLongRow && bytes.length - this.s.rowStart > this.maxRowBytes)) {
      // Inside an over-long row: its bytes so far leave the chunk, only its head is kept.
      if (this.s.rowStart >= start) this.append(data, start, this.s.rowStart);
      this.keepHead(data, Math.max(start, this.s.rowStart), data.length);
    } else this.append(data, start, data.length);
    this.s.rowStart -= bytes.length; // the row goes on in the next buffer
  }

  /**
   * The over-long row at `this.cut` ended: the bytes before it (from `start`) join the chunk, the
   * row's own leave it (those already appended are taken back), its head and lines are noted and
   * it is told to onLongRow. Returns where the push goes on (after the row's LF).
   */
  private dropLong(data: Buffer, start: number): number {
    const { rowStart, to, line, lastLine } = this.cut!;
    this.cut = undefined;
    if (!this.long) {
      this.long = { line, head: Buffer.alloc(0) };
      if (rowStart >= start) this.append(data, start, rowStart);
      else {
        // Its first bytes came in an earlier push and were appended: take them back.
        const back = start - rowStart;
        this.long.head = Buffer.from(this.assembly.subarray(this.assembled - back, Math.min(this.assembled, this.assembled - back + LONG_ROW_HEAD)));
        this.assembled -= back;
      }
    }
    this.keepHead(data, Math.max(start, rowStart), to - 1);
    for (let l = this.long.line; l <= lastLine; l++) this.cutLines.push(l);
    this.o.onLongRow!(this.long.line, this.long.head);
    this.long = undefined;
    return to;
  }

  /** Adds `data[from, to)` to the over-long row's head, up to LONG_ROW_HEAD bytes. */
  private keepHead(data: Buffer, from: number, to: number): void {
    if (!this.long) {
      // It went over the limit at the end of this push: its bytes so far leave the chunk.
      this.long = { line: this.s.rowLine, head: Buffer.alloc(0) };
      const back = from - this.s.rowStart; // bytes of it appended in earlier pushes
      if (back > 0) {
        this.long.head = Buffer.from(this.assembly.subarray(this.assembled - back, Math.min(this.assembled, this.assembled - back + LONG_ROW_HEAD)));
        this.assembled -= back;
      }
    }
    const room = LONG_ROW_HEAD - this.long.head.length;
    if (room > 0 && to > from) this.long.head = Buffer.concat([this.long.head, data.subarray(from, Math.min(to, from + room))]);
  }

  /**
   * Scans from `from` until a chunk is complete (returns the index after its last LF) or
   * the bytes end (returns -1): with SIMD when it can, in JavaScript when it cannot or when
   * SIMD found something wrong (the JavaScript scan then finds it again and words the error).
   */
  private scan(bytes: Uint8Array, from: number): number {
    // Inside an over-long row the JavaScript scan finds its end (SIMD would report it too long again).
    if (this.simd?.holds(bytes) && !this.long) {
      const end = this.simd.scan(this.s, from, this.rowLimit());
      if (end >= SCAN_MORE) return end;
    }
    return this.scanJs(bytes, from);
  }

  /** The reference scanner, one byte at a time. The hot loop: state in locals. */
  private scanJs(bytes: Uint8Array, from: number): number {
    const { delimiter, quote, fields } = this.o;
    const maxRowBytes = this.maxRowBytes;
    const rowsPerChunk = this.rowLimit();
    const st = this.s;
    // Bytes above every special byte (most letters and digits) take one comparison.
    const max = Math.max(LF, CR, delimiter, quote);
    const n = bytes.length;
    let q = st.inQuotes;
    let f = st.fieldsInRow;
    let has = st.rowHasBytes;
    let line = st.line;
    let rows = st.rows;
    let rowLine = st.rowLine;
    let rowStart = st.rowStart;
    let blanks = st.blanks;
    let end = -1;
    for (let i = from; i < n; i++) {
      const c = bytes[i];
      if (c > max) {
        has = true;
      } else if (c === quote) {
        if (!q) {
          const prev = i > 0 ? bytes[i - 1] : st.prevSep ? LF : 0;
          if (prev !== delimiter && prev !== LF && prev !== quote) this.badQuote(line, f);
          st.quoteLine = line;
        }
        q = !q;
        has = true;
      } else if (c === LF) {
        line++;
        if (q) continue;
        if (i - rowStart > maxRowBytes || this.long) {
          if (!this.o.onLongRow) this.tooLong(rowLine, false);
          // The row is cut (push: dropLong); it is not counted, and the scan goes on after it.
          this.cut = { rowStart, to: i + 1, line: rowLine, lastLine: line - 1 };
          rowStart = i + 1;
          f = 1;
          has = false;
          rowLine = line;
          end = SCAN_CUT;
          break;
        }
        rowStart = i + 1;
        // A blank line is skipped, except in a one-column file, where it is a null value.
        if (has || fields === 1) {
          if (f !== fields) {
            st.rowLine = rowLine;
            if (this.o.keepRagged) this.raggedRows.push({ line: rowLine, found: f });
            else this.ragged(f);
          }
          rows++;
        } else blanks++;
        f = 1;
        has = false;
        rowLine = line;
        if (rows === rowsPerChunk) {
          end = i + 1;
          break;
        }
      } else if (!q) {
        if (c === delimiter) f++;
        if (c !== CR) has = true;
      }
    }
    if (end === -1 && n - rowStart > maxRowBytes && !this.o.onLongRow) this.tooLong(rowLine, q);
    st.line = line;
    st.rowLine = rowLine;
    st.inQuotes = q;
    st.fieldsInRow = f;
    st.rowHasBytes = has;
    st.rows = rows;
    st.rowStart = rowStart;
    st.blanks = blanks;
    if (end >= 0 || end === SCAN_CUT) st.prevSep = true;
    else if (n > from) st.prevSep = bytes[n - 1] === delimiter || bytes[n - 1] === LF || bytes[n - 1] === quote;
    return end;
  }

  /** End of input: the rest as a last chunk (a final row may lack its newline). */
  end(): RowChunk | undefined {
    const st = this.s;
    if (st.inQuotes) {
      throw new SourceError(`unterminated quoted field (the quote opened on line ${st.quoteLine} never closes)`, { file: this.o.file, line: st.quoteLine });
    }
    if (this.long) {
      // The file ended inside an over-long row: it is cut as at its LF.
      for (let l = this.long.line; l <= st.line; l++) this.cutLines.push(l);
      this.o.onLongRow!(this.long.line, this.long.head);
      this.long = undefined;
      st.rowHasBytes = false;
    }
    if (st.rowHasBytes) {
      if (st.fieldsInRow !== this.o.fields) {
        if (this.o.keepRagged) this.raggedRows.push({ line: st.rowLine, found: st.fieldsInRow });
        else this.ragged(st.fieldsInRow);
      }
      st.rows++;
      st.rowHasBytes = false;
    }
    const last = st.rows > 0 ? this.take() : undefined;
    // The file is read: its scanner can serve the next one (a chunker that stops early just drops it).
    this.simd?.release();
    return last;
  }

  private append(data: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.assembled + n > this.assembly.length) {
      // Grow by doubling: after the first chunks the buffer fits and is only reused.
      const bigger = Buffer.allocUnsafe(Math.max(this.assembly.length * 2, this.assembled + n));
      this.assembly.copy(bigger, 0, 0, this.assembled);
      this.assembly = bigger;
    }
    data.copy(this.assembly, this.assembled, from, to);
    this.assembled += n;
  }

  private take(): RowChunk {
    let skippedLines: number[] | undefined;
    if (this.s.blanks > 0) {
      const stripped = stripBlankLines(this.assembly, this.prefixBytes, this.assembled, this.o.quote, this.chunkLine);
      this.assembled = stripped.end;
      skippedLines = stripped.skipped;
    }
    if (this.cutLines.length) {
      // Blank lines were counted in text without the cut rows: their physical lines come after those.
      const cut = this.cutLines;
      skippedLines = [...(skippedLines ?? []).map((l) => physicalLine(l, cut)), ...cut].sort((a, b) => a - b);
      this.cutLines = [];
    }
    const text = this.assembly.subarray(0, this.assembled);
    const chunk: RowChunk = { text, bytes: text.subarray(this.prefixBytes), rows: this.s.rows, firstLine: this.chunkLine };
    if (skippedLines) chunk.skippedLines = skippedLines;
    if (this.raggedRows.length) {
      chunk.ragged = this.raggedRows;
      this.raggedRows = [];
    }
    if (this.o.ownChunks) {
      // The chunk takes the buffer; the next one is assembled in a spare (or a new one).
      const own = this.assembly;
      chunk.recycle = () => spare.length < MAX_SPARE && spare.push(own);
      const next = spareOf(own.length);
      own.copy(next, 0, 0, this.prefixBytes);
      this.assembly = next;
    }
    this.assembled = this.prefixBytes;
    this.o.minRows = 1;
    this.s.rows = 0;
    this.s.blanks = 0;
    this.chunkLine = this.s.line;
    return chunk;
  }

  private ragged(found: number): never {
    throw new SourceError(`expected ${this.o.fields} fields, found ${found} (ragged row)`, { file: this.o.file, line: this.s.rowLine });
  }

  private badQuote(line: number, field: number): never {
    throw new SourceError(
      `a quote inside an unquoted field (field ${field} of ${this.o.fields}): quote the whole field and double the quotes in it, e.g. "b""c"`,
      { file: this.o.file, line, column: this.o.columns?.[field - 1] },
    );
  }

  private tooLong(rowLine: number, inQuotes: boolean): never {
    const open = inQuotes ? `; a quote opened on line ${this.s.quoteLine} is still open, so the rest of the file may be one field` : '';
    throw new SourceError(
      `row longer than ${this.maxRowBytes} bytes (source.maxRowBytes)${open}; raise source.maxRowBytes if rows really are this long`,
      { file: this.o.file, line: rowLine },
    );
  }
}
