/**
 * Record batches in shared memory. `toShared` lays every buffer of a batch (validity,
 * offsets, values, type ids, Utf8View data buffers, children, dictionaries) into slabs and
 * returns a small descriptor; `fromShared` rebuilds the batch as views over the same
 * memory in any thread. Posting a descriptor copies no batch bytes: the SharedArrayBuffers
 * travel by reference.
 *
 * A buffer that already lies in a slab (a pass-through stage, a slice, a column subset)
 * is referenced, not copied; only buffers in ordinary memory are packed into a new slab.
 * Types travel as an Arrow IPC schema message, so every type Arrow can describe survives.
 */
import { Data, RecordBatch, Schema, Struct, Vector, type DataType } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import type { Backing, Lease } from './owned';
import { SLAB_HEADER, isSlab, release, retain, type SlabArena } from './slab';
import { STRICT_SLABS, noteGenerations } from './generation';
import type { BufferRef, DataDesc, SharedBatches } from '../protocol/shared-layout';
import './arrow-names'; // before any schema is decoded

type TypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export type { BufferRef, DataDesc, SharedBatches } from '../protocol/shared-layout';

export type { Lease };

export interface Packed {
  shared: SharedBatches;
  /** Holds every slab the descriptor names. */
  lease: Lease;
  /** Bytes copied into a new slab (0 when everything already lived in slabs). */
  packedBytes: number;
}

/** A BufferRef's slab for a buffer that exists with no bytes (protocol/shared-layout.ts). */
const EMPTY_SLAB = -2;
const ALIGN = 64;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const schemaBytes = new WeakMap<Schema, Uint8Array>();

function encodeSchema(schema: Schema): Uint8Array {
  let bytes = schemaBytes.get(schema);
  if (!bytes) schemaBytes.set(schema, (bytes = Message.encode(Message.from(schema))));
  return bytes;
}

/**
 * Tests run with SLUICE_STRICT_LEASES=1 (jest.config.js): a second release of one lease
 * throws, so an ownership bug fails the test that caused it. In production a second
 * release stays harmless (the slabs are released once either way).
 */
const STRICT_LEASES = process.env.SLUICE_STRICT_LEASES === '1';

/** A lease that releases each slab once, once. */
export function leaseOf(slabs: readonly SharedArrayBuffer[]): Lease {
  let released = false;
  return {
    release() {
      if (released) {
        if (STRICT_LEASES) throw new Error('lease released twice (an ownership bug: one holder, one release)');
        return;
      }
      released = true;
      for (const slab of slabs) release(slab);
    },
  };
}

export interface ToSharedOptions {
  /**
   * Slabs of this set (a worker's input, which its output passes on) are listed, not
   * retained, for the receiver to retain: if the thread were terminated before main took the
   * result, a retain made in the thread would never be released. Other slabs are retained here.
   */
  borrow?: ReadonlySet<SharedArrayBuffer>;
  /**
   * The caller's own lease holds every slab the batches already lie in for as long as the
   * descriptor is used (an executor sending the input it owns): they are not retained again,
   * and the returned lease holds only the slab packed now, if any.
   */
  callerHolds?: boolean;
  /** Where the (single) batch's bytes lie, passed on with the descriptor. */
  backing?: Backing;
}

export function toShared(batches: readonly RecordBatch[], arena: SlabArena, opts: ToSharedOptions = {}): Packed {
  const slabs: SharedArrayBuffer[] = [];
  const borrowed: number[] = [];
  const slabIndex = new Map<SharedArrayBuffer, number>();
  const copies: { source: TypedArray; ref: BufferRef }[] = [];
  let copyBytes = 0;

  const ref = (buffer: TypedArray | undefined | null): BufferRef | null => {
    if (!buffer) return null;
    const kind = buffer.constructor.name;
    // Present but empty is not absent: see EMPTY_SLAB.
    if (buffer.byteLength === 0) return { slab: EMPTY_SLAB, byteOffset: 0, length: 0, kind };
    if (isSlab(buffer.buffer)) {
      let index = slabIndex.get(buffer.buffer);
      if (index === undefined) {
        index = slabs.push(buffer.buffer) - 1;
        slabIndex.set(buffer.buffer, index);
        if (opts.borrow?.has(buffer.buffer)) borrowed.push(index);
        else if (!opts.callerHolds) retain(buffer.buffer);
      }
      return { slab: index, byteOffset: buffer.byteOffset, length: buffer.length, kind };
    }
    const r: BufferRef = { slab: -1, byteOffset: copyBytes, length: buffer.length, kind };
    copies.push({ source: buffer, ref: r });
    copyBytes += align(buffer.byteLength);
    return r;
  };

  const describe = (data: Data): DataDesc => ({
    offset: data.offset,
    length: data.length,
    nullCount: data.nullCount,
    buffers: [ref(data.valueOffsets as TypedArray), ref(data.values as TypedArray), ref(data.nullBitmap as TypedArray), ref(data.typeIds as TypedArray)],
    variadic: (data.variadicBuffers ?? []).map((b) => ref(b as TypedArray) ?? { slab: EMPTY_SLAB, byteOffset: 0, length: 0, kind: 'Uint8Array' }),
    children: data.children.map(describe),
    dictionary: data.dictionary?.data.map(describe),
  });

  const schemas: Uint8Array[] = [];
  const schemaIndex = new Map<Schema, number>();
  const described = batches.map((batch) => {
    let index = schemaIndex.get(batch.schema);
    if (index === undefined) schemaIndex.set(batch.schema, (index = schemas.push(encodeSchema(batch.schema)) - 1));
    return { schema: index, data: describe(batch.data) };
  });

  if (copies.length) {
    const slab = arena.acquire(copyBytes); // count 1: held by this lease
    const index = slabs.push(slab) - 1;
    const bytes = new Uint8Array(slab);
    for (const { source, ref: r } of copies) {
      bytes.set(new Uint8Array(source.buffer, source.byteOffset, source.byteLength), SLAB_HEADER + r.byteOffset);
      r.slab = index;
      r.byteOffset += SLAB_HEADER;
    }
  }
  const shared: SharedBatches = borrowed.length ? { schemas, batches: described, slabs, borrowed } : { schemas, batches: described, slabs };
  const backingSlab = opts.backing && batches.length === 1 ? slabIndex.get(opts.backing.slab) : undefined;
  if (backingSlab !== undefined) shared.backing = { format: opts.backing!.format, slab: backingSlab, offset: opts.backing!.offset, length: opts.backing!.length };
  const own = opts.callerHolds ? slabs.slice(slabs.length - (copies.length ? 1 : 0)) : borrowed.length ? slabs.filter((_, i) => !borrowed.includes(i)) : slabs;
  return { shared, lease: leaseOf(own), packedBytes: copies.reduce((n, c) => n + c.source.byteLength, 0) };
}

/** Take over a descriptor packed elsewhere: retain what it borrowed; the lease holds every slab it names. */
export function adoptShared(shared: SharedBatches): Lease {
  for (const i of shared.borrowed ?? []) retain(shared.slabs[i]);
  return leaseOf(shared.slabs);
}

const decoded = new Map<string, Schema>();

function decodeSchema(bytes: Uint8Array): Schema {
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let schema = decoded.get(key);
  if (!schema) {
    schema = Message.decode(bytes).header() as Schema;
    if (decoded.size > 256) decoded.clear();
    decoded.set(key, schema);
  }
  return schema;
}

/** Rebuild the batches as views over the descriptor's slabs (no copy). */
export function fromShared(shared: SharedBatches): RecordBatch[] {
  const view = (r: BufferRef | null): TypedArray | undefined => {
    if (!r) return undefined;
    const Ctor = (globalThis as unknown as Record<string, new (b: ArrayBufferLike, o?: number, l?: number) => TypedArray>)[r.kind];
    if (r.slab === EMPTY_SLAB) return new Ctor(new ArrayBuffer(0));
    return new Ctor(shared.slabs[r.slab], r.byteOffset, r.length);
  };
  const build = (type: DataType, d: DataDesc): Data => {
    const children = d.children.map((c, i) => build(type.children[i].type, c));
    const dictionary = d.dictionary ? new Vector(d.dictionary.map((x) => build((type as unknown as { dictionary: DataType }).dictionary, x))) : undefined;
    const [offsets, values, validity, typeIds] = d.buffers.map(view);
    const buffers = { 0: offsets, 1: values, 2: validity, 3: typeIds } as never;
    return new Data(type, d.offset, d.length, d.nullCount, buffers, children, dictionary, d.variadic.map((v) => view(v) as Uint8Array));
  };
  const batches = shared.batches.map(({ schema: index, data }) => {
    const schema = decodeSchema(shared.schemas[index]);
    return new RecordBatch(schema, build(new Struct(schema.fields), data) as Data<Struct>);
  });
  if (STRICT_SLABS) noteGenerations(batches); // checked where they change hands (batch/generation.ts)
  return batches;
}

/** Where the descriptor's single batch lies as IPC bytes, if the sender knew. */
export function backingOf(shared: SharedBatches): Backing | undefined {
  const b = shared.backing;
  return b && { format: b.format, slab: shared.slabs[b.slab], offset: b.offset, length: b.length };
}

/**
 * A lease on every slab the batches' buffers lie in (each retained once), or none. For
 * batches that reference slab memory they do not own, e.g. an inline stage's output that
 * passes input columns on: the input's lease ends when the stage returns, this one when
 * the output is consumed.
 */
export function leaseSlabsOf(batches: readonly RecordBatch[]): Lease | undefined {
  const slabs = new Set<SharedArrayBuffer>();
  for (const buffer of buffersOf(batches)) if (isSlab(buffer)) slabs.add(buffer);
  if (slabs.size === 0) return undefined;
  for (const slab of slabs) retain(slab);
  return leaseOf([...slabs]);
}

/** Every buffer behind the batches, for tests and assertions (is it all shared?). */
export function buffersOf(batches: readonly RecordBatch[]): ArrayBufferLike[] {
  const out: ArrayBufferLike[] = [];
  const walk = (d: Data) => {
    for (const b of [d.valueOffsets, d.values, d.nullBitmap, d.typeIds, ...(d.variadicBuffers ?? [])] as (TypedArray | undefined)[]) if (b && b.byteLength > 0) out.push(b.buffer);
    d.children.forEach(walk);
    d.dictionary?.data.forEach(walk);
  };
  batches.forEach((b) => walk(b.data));
  return out;
}
