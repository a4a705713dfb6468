/**
 * Length-prefixed frames over a byte stream (pipe / socket):
 *
 *   [u32 LE header length][u32 LE payload length][header bytes][payload bytes]
 *
 * The header is small control metadata; the payload is opaque bytes (Arrow IPC for
 * batches). The encoder returns a chunk list so big payloads are never concatenated
 * (the socket writes them with one writev). The decoder is incremental: a frame may be
 * split across any number of chunks and one chunk may hold many frames. Each payload
 * lands in its own exactly-sized buffer (from `allocate`, so the caller can recycle
 * them), filled once, so decoding is linear in the bytes received (no growing buffer, no
 * re-copying) and a payload never pins a larger chunk.
 *
 * With a socket opened with `onread` (readTarget/commitRead) the kernel writes large
 * payloads straight into their buffer: no copy in userland at all.
 */

export const FRAME_PREFIX_BYTES = 8;
/** u32 lengths: 4 GiB minus one byte per header or payload. */
export const MAX_FRAME_PART_BYTES = 0xffff_ffff;
/** Headers are control messages; anything bigger means the stream is corrupt. */
export const DEFAULT_MAX_HEADER_BYTES = 1 << 20;

export interface Frame {
  header: Uint8Array;
  payload: Uint8Array;
}

/** One frame as a chunk list: `[prefix + header, ...payload]` (payload chunks are not copied). */
export function encodeFrame(header: Uint8Array, payload: readonly Uint8Array[] = []): Uint8Array[] {
  const payloadBytes = chunksByteLength(payload);
  if (header.byteLength > MAX_FRAME_PART_BYTES || payloadBytes > MAX_FRAME_PART_BYTES) {
    throw new RangeError(`frame too large: header ${header.byteLength} B, payload ${payloadBytes} B (limit ${MAX_FRAME_PART_BYTES} B each)`);
  }
  const head = new Uint8Array(FRAME_PREFIX_BYTES + header.byteLength);
  const view = new DataView(head.buffer);
  view.setUint32(0, header.byteLength, true);
  view.setUint32(4, payloadBytes, true);
  head.set(header, FRAME_PREFIX_BYTES);
  const out: Uint8Array[] = [head];
  for (const chunk of payload) if (chunk.byteLength > 0) out.push(chunk);
  return out;
}

/** Bytes a chunk list occupies on the wire. */
export function chunksByteLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const chunk of chunks) n += chunk.byteLength;
  return n;
}

const EMPTY = new Uint8Array(0);
/** Scratch for small reads (prefixes, headers, small frames) with `onread`. */
const SCRATCH_BYTES = 64 * 1024;
/** A payload remainder at least this big is read in place rather than through scratch. */
const DIRECT_READ_MIN = 16 * 1024;

export interface FrameDecoderOptions {
  maxHeaderBytes?: number;
  /**
   * Memory for a payload of `bytes` (exactly that long, 8-byte aligned). Default: a fresh
   * buffer. A pool lets the caller recycle payloads once their batches are let go.
   */
  allocate?(bytes: number): Uint8Array;
}

/**
 * Turns a byte stream back into frames. `push` every chunk as it arrives; `onFrame` is
 * called synchronously for each completed frame, in order. Pushed chunks are copied
 * from, never kept, so the caller may reuse them after `push` returns. If `onFrame`
 * throws, the rest of that chunk is lost: treat it as a broken stream.
 */
export class FrameDecoder {
  private readonly prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  private readonly prefixView = new DataView(this.prefix.buffer);
  private prefixFill = 0;
  /** Buffers of the frame being assembled (undefined while reading the prefix). */
  private header: Uint8Array | undefined;
  private payload: Uint8Array = EMPTY;
  private fill = 0;
  private readonly maxHeaderBytes: number;
  private readonly allocate: (bytes: number) => Uint8Array;
  private scratch: Uint8Array | undefined;
  private direct = false;
  /** Payload bytes copied out of pushed chunks (reads in place are not copies). */
  copiedBytes = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    opts: FrameDecoderOptions = {},
  ) {
    this.maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    // allocUnsafeSlow: its own ArrayBuffer at offset 0 (8-byte aligned for Arrow), not zero-filled.
    this.allocate = opts.allocate ?? ((bytes) => Buffer.allocUnsafeSlow(bytes));
  }

  /**
   * For `net.Socket({ onread: { buffer: () => decoder.readTarget(), callback: (n) => decoder.commitRead(n) } })`:
   * the buffer the next read should fill — the rest of a large payload itself, else scratch.
   */
  readTarget(): Uint8Array {
    const header = this.header;
    if (header !== undefined && this.fill >= header.byteLength) {
      const at = this.fill - header.byteLength;
      if (this.payload.byteLength - at >= DIRECT_READ_MIN) {
        this.direct = true;
        return this.payload.subarray(at);
      }
    }
    this.direct = false;
    this.scratch ??= new Uint8Array(SCRATCH_BYTES);
    return this.scratch;
  }

  /** `n` bytes were read into the buffer `readTarget()` returned last. */
  commitRead(n: number): void {
    if (!this.direct) {
      this.push(this.scratch!.subarray(0, n));
      return;
    }
    this.fill += n;
    if (this.fill === this.header!.byteLength + this.payload.byteLength) this.finish();
  }

  /** True between frames: nothing of a partial frame is held. */
  get atBoundary(): boolean {
    return this.prefixFill === 0 && this.header === undefined;
  }

  /** Bytes of the partial frame received so far (prefix included). */
  get partialBytes(): number {
    if (this.header === undefined) return this.prefixFill;
    return FRAME_PREFIX_BYTES + this.fill;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.byteLength;
    while (pos < end) {
      if (this.header === undefined) {
        const take = Math.min(FRAME_PREFIX_BYTES - this.prefixFill, end - pos);
        this.prefix.set(chunk.subarray(pos, pos + take), this.prefixFill);
        this.prefixFill += take;
        pos += take;
        if (this.prefixFill < FRAME_PREFIX_BYTES) return;
        this.begin(this.prefixView.getUint32(0, true), this.prefixView.getUint32(4, true));
        if (this.header!.byteLength + this.payload.byteLength === 0) this.finish();
        continue;
      }
      pos = this.fillFrom(chunk, pos);
    }
  }

  private begin(headerBytes: number, payloadBytes: number): void {
    if (headerBytes > this.maxHeaderBytes) {
      throw new Error(`corrupt frame stream: header of ${headerBytes} bytes exceeds ${this.maxHeaderBytes} (is something else writing to this channel?)`);
    }
    this.header = headerBytes === 0 ? EMPTY : new Uint8Array(headerBytes);
    this.payload = payloadBytes === 0 ? EMPTY : this.allocate(payloadBytes);
    if (this.payload.byteLength !== payloadBytes) throw new Error(`frame allocator returned ${this.payload.byteLength} bytes for a ${payloadBytes}-byte payload`);
    this.fill = 0;
  }

  /** Copy as much of `chunk[pos..]` as the current frame still needs; returns the new pos. */
  private fillFrom(chunk: Uint8Array, pos: number): number {
    const header = this.header!;
    const headerBytes = header.byteLength;
    const total = headerBytes + this.payload.byteLength;
    while (this.fill < total && pos < chunk.byteLength) {
      if (this.fill < headerBytes) {
        const take = Math.min(headerBytes - this.fill, chunk.byteLength - pos);
        header.set(chunk.subarray(pos, pos + take), this.fill);
        this.fill += take;
        pos += take;
      } else {
        const at = this.fill - headerBytes;
        const take = Math.min(this.payload.byteLength - at, chunk.byteLength - pos);
        this.payload.set(chunk.subarray(pos, pos + take), at);
        this.copiedBytes += take;
        this.fill += take;
        pos += take;
      }
    }
    if (this.fill === total) this.finish();
    return pos;
  }

  private finish(): void {
    const frame: Frame = { header: this.header!, payload: this.payload };
    this.header = undefined;
    this.payload = EMPTY;
    this.prefixFill = 0;
    this.fill = 0;
    this.onFrame(frame);
  }
}
