import { encodeFrame, FrameDecoder, FRAME_PREFIX_BYTES, type Frame } from '../../../src/batch/framing';

const text = new TextEncoder();
const utf8 = new TextDecoder();

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function collect(): { frames: Frame[]; decoder: FrameDecoder } {
  const frames: Frame[] = [];
  return { frames, decoder: new FrameDecoder((f) => frames.push(f)) };
}

const decoded = (f: Frame) => ({ header: utf8.decode(f.header), payload: [...f.payload] });

describe('frame encoding', () => {
  it('prefixes header and payload lengths and keeps payload chunks uncopied', () => {
    const a = bytes(5);
    const b = bytes(7, 2);
    const chunks = encodeFrame(text.encode('hdr'), [a, b]);
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(a);
    expect(chunks[2]).toBe(b);
    const view = new DataView(chunks[0].buffer, chunks[0].byteOffset);
    expect(view.getUint32(0, true)).toBe(3);
    expect(view.getUint32(4, true)).toBe(12);
    expect(chunks[0].byteLength).toBe(FRAME_PREFIX_BYTES + 3);
  });
});

describe('frame decoding', () => {
  const frameA = { header: '{"type":"task","id":1}', payload: bytes(37) };
  const frameB = { header: '{"type":"flush","id":2}', payload: new Uint8Array(0) };
  const frameC = { header: 'c', payload: bytes(3, 9) };
  const wire = concat([frameA, frameB, frameC].flatMap((f) => encodeFrame(text.encode(f.header), [f.payload])));
  const expected = [frameA, frameB, frameC].map((f) => ({ header: f.header, payload: [...f.payload] }));

  it('decodes a stream split in two at every byte position', () => {
    for (let cut = 0; cut <= wire.byteLength; cut++) {
      const { frames, decoder } = collect();
      decoder.push(wire.subarray(0, cut));
      decoder.push(wire.subarray(cut));
      expect({ cut, frames: frames.map(decoded) }).toEqual({ cut, frames: expected });
      expect(decoder.atBoundary).toBe(true);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const { frames, decoder } = collect();
    for (let i = 0; i < wire.byteLength; i++) decoder.push(wire.subarray(i, i + 1));
    expect(frames.map(decoded)).toEqual(expected);
  });

  it('decodes many frames from one chunk', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ header: `h${i}`, payload: bytes(i % 17, i) }));
    const { frames, decoder } = collect();
    decoder.push(concat(many.flatMap((f) => encodeFrame(text.encode(f.header), [f.payload]))));
    expect(frames.map(decoded)).toEqual(many.map((f) => ({ header: f.header, payload: [...f.payload] })));
  });

  it('carries a zero-length payload and a zero-length header', () => {
    const { frames, decoder } = collect();
    decoder.push(concat(encodeFrame(new Uint8Array(0), [])));
    decoder.push(concat(encodeFrame(text.encode('x'), [new Uint8Array(0)])));
    expect(frames.map(decoded)).toEqual([
      { header: '', payload: [] },
      { header: 'x', payload: [] },
    ]);
  });

  it('reassembles a payload larger than 64 KiB from socket-sized chunks into one exact buffer', () => {
    const payload = bytes(300_000, 7);
    const framed = concat(encodeFrame(text.encode('big'), [payload.subarray(0, 100_000), payload.subarray(100_000)]));
    const { frames, decoder } = collect();
    for (let at = 0; at < framed.byteLength; at += 65_536) {
      decoder.push(framed.subarray(at, at + 65_536));
      if (at + 65_536 < framed.byteLength) expect(decoder.partialBytes).toBe(Math.min(at + 65_536, framed.byteLength));
    }
    expect(frames).toHaveLength(1);
    expect(utf8.decode(frames[0].header)).toBe('big');
    expect(frames[0].payload.byteLength).toBe(payload.byteLength);
    expect(frames[0].payload.buffer.byteLength).toBe(payload.byteLength); // own buffer, nothing pinned
    expect(frames[0].payload.byteOffset).toBe(0); // 8-byte aligned for Arrow
    expect(Buffer.compare(frames[0].payload, payload)).toBe(0);
  });

  it('copies out of pushed chunks, so the caller may reuse them', () => {
    const { frames, decoder } = collect();
    const chunk = concat(encodeFrame(text.encode('h'), [Uint8Array.of(1, 2, 3)]));
    decoder.push(chunk);
    chunk.fill(0);
    expect(frames.map(decoded)).toEqual([{ header: 'h', payload: [1, 2, 3] }]);
  });

  it('rejects a corrupt prefix instead of allocating a huge header', () => {
    const { decoder } = collect();
    const junk = new Uint8Array(8).fill(0xff);
    expect(() => decoder.push(junk)).toThrow(/corrupt frame stream/);
  });
});

describe('frame decoding with onread-style reads (readTarget / commitRead)', () => {
  /** Feed `wire` the way a socket with `onread` does: at most `step` bytes per read, into readTarget(). */
  function feed(decoder: FrameDecoder, wire: Uint8Array, step: number): void {
    for (let at = 0; at < wire.byteLength; ) {
      const target = decoder.readTarget();
      const n = Math.min(target.byteLength, step, wire.byteLength - at);
      target.set(wire.subarray(at, at + n));
      decoder.commitRead(n);
      at += n;
    }
  }

  it('reads large payloads in place into allocated buffers and small frames through scratch', () => {
    const big = bytes(1 << 20, 3);
    const frames = [
      { header: 'a', payload: bytes(10, 1) },
      { header: 'big', payload: big },
      { header: 'b', payload: new Uint8Array(0) },
      { header: 'c', payload: bytes(100_000, 2) },
    ];
    const wire = concat(frames.flatMap((f) => encodeFrame(text.encode(f.header), [f.payload])));
    for (const step of [7, 4096, 200_000]) {
      const allocated: number[] = [];
      const out: Frame[] = [];
      const decoder = new FrameDecoder((f) => out.push(f), { allocate: (n) => (allocated.push(n), new Uint8Array(new ArrayBuffer(n + 64), 64, n)) });
      feed(decoder, wire, step);
      expect(out.map((f) => utf8.decode(f.header))).toEqual(['a', 'big', 'b', 'c']);
      out.forEach((f, i) => expect(Buffer.compare(f.payload, frames[i].payload)).toBe(0));
      expect(allocated).toEqual([10, 1 << 20, 100_000]);
      expect(out[1].payload.byteOffset).toBe(64); // the allocator's buffer, not a copy
      // At most a scratch-full of each payload was copied; the rest was read in place.
      expect(decoder.copiedBytes).toBeLessThan(10 + 2 * 64 * 1024);
      expect(decoder.atBoundary).toBe(true);
    }
  });

  it('rejects an allocator that returns the wrong size', () => {
    const decoder = new FrameDecoder(() => undefined, { allocate: () => new Uint8Array(3) });
    expect(() => decoder.push(concat(encodeFrame(text.encode('h'), [bytes(5)])))).toThrow(/allocator returned 3 bytes for a 5-byte payload/);
  });
});
