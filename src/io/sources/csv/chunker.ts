/**
 * Cuts a byte stream of CSV into chunks of whole rows, `rows` rows each, respecting quotes
 * (a quoted field may hold delimiters, doubled quotes and CR/LF). While scanning it checks
 * that every row has the header's number of fields, which polars does not (it silently
 * truncates long rows and pads short ones with nulls).
 *
 * Physical line numbers (1-based, counting the header) are tracked for error messages.
 */
import { SourceError } from '../../../errors';

export interface RowChunk {
  /** Whole rows, each ending in LF (the last row of a file may lack it). */
  bytes: Buffer;
  rows: number;
  /** Physical line number of the chunk's first row. */
  firstLine: number;
}

export interface ChunkerOptions {
  file: string;
  rowsPerChunk: number;
  fields: number;
  delimiter: number;
  quote: number;
  /** Physical line of the first byte the chunker will see. */
  firstLine: number;
}

const LF = 10;
const CR = 13;

export class RowChunker {
  private parts: Buffer[] = [];
  private owned = true;
  private partBytes = 0;
  private inQuotes = false;
  private fieldsInRow = 1;
  private rowHasBytes = false;
  private rows = 0;
  /** Line where the current (incomplete) chunk starts, and the current line. */
  private chunkLine: number;
  private line: number;
  private quoteLine = 0;
  /** Line the current row starts on. */
  private rowLine: number;

  constructor(private readonly o: ChunkerOptions) {
    this.o = { ...o };
    this.chunkLine = o.firstLine;
    this.line = o.firstLine;
    this.rowLine = o.firstLine;
  }

  /** Later chunks may have another size (the first one also feeds schema inference). */
  setRowsPerChunk(rows: number): void {
    this.o.rowsPerChunk = rows;
  }

  /** Feed bytes; returns the chunks completed by them. `data` may be reused by the caller afterwards. */
  push(data: Buffer): RowChunk[] {
    const out: RowChunk[] = [];
    const { delimiter, quote, rowsPerChunk, fields } = this.o;
    // Bytes above every special byte (most letters and digits) take one comparison.
    const max = Math.max(LF, CR, delimiter, quote);
    const n = data.length;
    // A plain Uint8Array view: indexing a Buffer subclass is slower in V8's hot loops.
    const bytes = new Uint8Array(data.buffer, data.byteOffset, n);
    let start = 0;
    let q = this.inQuotes;
    let f = this.fieldsInRow;
    let has = this.rowHasBytes;
    let line = this.line;
    for (let i = 0; i < n; i++) {
      const c = bytes[i];
      if (c > max) {
        has = true;
      } else if (c === quote) {
        if (!q) this.quoteLine = line;
        q = !q;
        has = true;
      } else if (c === LF) {
        line++;
        if (q) continue;
        if (has) {
          if (f !== fields) {
            this.line = line;
            this.ragged(f);
          }
          this.rows++;
        }
        f = 1;
        has = false;
        this.rowLine = line;
        if (this.rows === rowsPerChunk) {
          this.line = line;
          this.keep(data.subarray(start, i + 1), false);
          out.push(this.take());
          start = i + 1;
        }
      } else if (!q) {
        if (c === delimiter) f++;
        if (c !== CR) has = true;
      }
    }
    this.line = line;
    this.inQuotes = q;
    this.fieldsInRow = f;
    this.rowHasBytes = has;
    if (start < n) this.keep(Buffer.from(data.subarray(start)), true);
    return out;
  }

  /** End of input: the rest as a last chunk (a final row may lack its newline). */
  end(): RowChunk | undefined {
    if (this.inQuotes) {
      throw new SourceError(`unterminated quoted field (the quote opened on line ${this.quoteLine} never closes)`, { file: this.o.file, line: this.quoteLine });
    }
    if (this.rowHasBytes) {
      if (this.fieldsInRow !== this.o.fields) this.ragged(this.fieldsInRow);
      this.rows++;
      this.rowHasBytes = false;
    }
    return this.rows > 0 ? this.take() : undefined;
  }

  /** `owned`: the buffer is ours; otherwise it is a view of the caller's (reused) buffer. */
  private keep(part: Buffer, owned: boolean): void {
    if (part.length === 0) return;
    this.owned &&= owned;
    this.parts.push(part);
    this.partBytes += part.length;
  }

  private take(): RowChunk {
    const bytes = this.parts.length === 1 && this.owned ? this.parts[0] : Buffer.concat(this.parts, this.partBytes);
    const chunk = { bytes, rows: this.rows, firstLine: this.chunkLine };
    this.parts = [];
    this.owned = true;
    this.partBytes = 0;
    this.rows = 0;
    this.chunkLine = this.line;
    return chunk;
  }

  private ragged(found: number): never {
    throw new SourceError(`expected ${this.o.fields} fields, found ${found} (ragged row)`, { file: this.o.file, line: this.rowLine });
  }
}
