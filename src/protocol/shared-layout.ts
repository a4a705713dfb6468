/**
 * The layout of record batches in shared memory, as a descriptor crosses threads: which
 * slab, which offset, which kind of array (batch/shared.ts packs and reads it). Part of the
 * protocol: thread stages, the source thread and the encoder threads all post it.
 */

/**
 * Where one buffer lives: slab index in the descriptor, byte offset, element count, array kind.
 * `slab` is -2 (EMPTY_SLAB in batch/shared.ts) for a buffer that exists with no bytes (an
 * all-null list's child values, a Utf8View dictionary of no views): the reader needs an empty
 * array of its kind there, not a missing buffer, or Arrow's writers fail on it.
 */
export interface BufferRef {
  slab: number;
  byteOffset: number;
  length: number;
  kind: string;
}

export interface DataDesc {
  offset: number;
  length: number;
  nullCount: number;
  /** By Arrow's BufferType: 0 offsets, 1 values, 2 validity, 3 type ids; null where the data has none. */
  buffers: (BufferRef | null)[];
  variadic: BufferRef[];
  children: DataDesc[];
  dictionary?: DataDesc[];
}

export interface SharedBatches {
  /** IPC-encoded schemas; batches point at one by index. */
  schemas: Uint8Array[];
  batches: { schema: number; data: DataDesc }[];
  slabs: SharedArrayBuffer[];
  /** The single batch is exactly these IPC bytes in `slabs[slab]` (an owned batch's backing, batch/owned.ts). */
  backing?: { format: 'ipc-file' | 'ipc-stream'; slab: number; offset: number; length: number };
  /**
   * Indices of slabs packed with `borrow` (a worker's output lying in its input's slabs): not
   * retained by the packer; whoever takes the descriptor retains them (adoptShared).
   */
  borrowed?: number[];
}
