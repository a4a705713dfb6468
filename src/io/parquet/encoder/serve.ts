/**
 * The Parquet encoder's work, whatever runs it (pool.ts): gathers the batches of the row groups
 * it is given, as Arrow IPC bytes, and encodes each group with polars as a small whole Parquet
 * file, which it sends back; or parses a CSV chunk and encodes it as one group. It never touches
 * the output: the sink appends the parts in order (ParquetAssembler merges their footers).
 * A thread of its own serves it over its parentPort (thread.ts); a small output is served on
 * the main thread over a MessageChannel (local.ts), the same messages either way.
 */
import type pl from 'nodejs-polars';
import { polars } from '../../../batch/lazy-polars';
import type { FrameReclaimer } from '../../../batch/reclaim';
import { serializeError } from '../../../errors';
import type { EncoderReply, EncoderRequest } from '../../../protocol/encoder';
import { parseChunk } from '../../../csv/parse';
import type { CsvChunkMeta } from '../../../csv/item';

/** The side of a port the encoder listens and replies on. */
export interface EncoderPort {
  postMessage(reply: EncoderReply, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (m: EncoderRequest<CsvChunkMeta>) => void): unknown;
}

export interface ServeOptions {
  /** Set by the pool to stop: the encoder stops between two messages, so what it encodes finishes first. */
  stop: Int32Array;
  /** 1 while the encoder may be inside polars: the pool never terminates its thread then (pool.ts `destroy`). */
  busy: Int32Array;
  /** How to stop once `stop` is seen (a thread exits; the main thread's encoder closes its port). Messages after it are dropped. */
  exit: () => void;
  /** Frees the frames each message leaves behind (batch/reclaim.ts). */
  reclaimer: FrameReclaimer;
}

interface Group {
  /** Rows gathered so far (undefined: none yet). */
  pending: pl.DataFrame | undefined;
  /** A zero-row frame with the schema, for an output without rows. */
  schema: pl.DataFrame | undefined;
  /** Frames added since the last compaction, not yet in `pending`. */
  small: pl.DataFrame[];
}

/** Frames gathered before they join a group's rows as one compacted chunk. */
const COMPACT = 64;
/** Frames of fewer rows are compacted; their copy is cheap, their own buffers are not. */
const SMALL_ROWS = 1024;

export function serveEncoder(port: EncoderPort, o: ServeOptions): void {
  // Loaded now (batch/lazy-polars.ts): a thread is started to encode, and the main thread's encoder when a group comes.
  const pl = polars();
  /** Open groups by number. */
  const groups = new Map<number, Group>();
  /**
   * Groups that failed here: what was already sent for them is dropped, not gathered into a
   * group nobody ends (the pool refuses new rows for them once it hears of the failure).
   */
  const failed = new Set<number>();
  /** Start of the work not yet reported: each reply carries the time since (the encoder's busy time). */
  let mark = 0;
  const reply = (r: EncoderReply, transfer: ArrayBuffer[] = []) => {
    const now = performance.now();
    port.postMessage({ ...r, busyMs: now - mark }, transfer);
    mark = now;
  };
  let stopped = false;

  /**
   * Messages are handled one at a time with a turn of the event loop between them, so the
   * finalizers that free collected frames run (they wait in the check phase: a thread going
   * from message to message never got there, and grew by ~50 MB a row group when it was the
   * slowest part of a conversion).
   */
  let queue = Promise.resolve();
  port.on('message', (m: EncoderRequest<CsvChunkMeta>) => {
    queue = queue.then(async () => {
      if (stopped) return;
      // busy before stop is read: the pool sets stop, then reads busy, so either it sees this
      // encoder busy and waits, or this encoder sees stop here and stops before entering polars.
      Atomics.store(o.busy, 0, 1);
      if (Atomics.load(o.stop, 0) === 1) {
        stopped = true;
        Atomics.store(o.busy, 0, 0);
        o.exit();
        return;
      }
      mark = performance.now();
      try {
        handle(m);
      } finally {
        Atomics.store(o.busy, 0, 0);
        Atomics.notify(o.busy, 0);
      }
      if (m.type !== 'drop') await o.reclaimer.afterTask();
    });
  });

  function handle(m: EncoderRequest<CsvChunkMeta>): void {
    if (m.type === 'stop') return; // the flag was not set: nothing to do
    if (m.type === 'drop') {
      groups.delete(m.group);
      failed.delete(m.group);
      return;
    }
    if (failed.has(m.group)) {
      if (m.type !== 'end') reply({ type: 'free', slot: m.slot });
      return;
    }
    if (m.type === 'csv') {
      let df: pl.DataFrame | undefined;
      try {
        // polars copies the text in as it parses: the slot is free again after.
        df = parseChunk({ ...m.chunk, text: Buffer.from(m.sab, 0, m.length) }, m.parse);
      } catch (err) {
        fail(m.group, err);
      } finally {
        reply({ type: 'free', slot: m.slot });
      }
      if (df) guard(m.group, () => (m.into ? add(groupOf(m.group), df!) : encode(m.group, df!, m.compression, m.orEmpty)));
      return;
    }
    const group = groupOf(m.group);
    if (m.type === 'batch') {
      let df: pl.DataFrame | undefined;
      try {
        // polars copies the bytes into its own memory: the slot (or slab) is free again at once.
        const bytes = Buffer.from(m.sab, m.offset, m.length);
        df = m.format === 'file' ? pl.readIPC(bytes) : pl.readIPCStream(bytes);
      } catch (err) {
        fail(m.group, err);
      } finally {
        reply({ type: 'free', slot: m.slot });
      }
      if (df) guard(m.group, () => add(group, df!));
      return;
    }
    // end: encode the group and send it back
    groups.delete(m.group);
    // No rows in the whole output: a file with the schema (or no columns at all).
    guard(m.group, () => encode(m.group, rowsOf(group) ?? (m.orEmpty ? (group.schema ?? pl.DataFrame({})) : undefined), m.compression, m.orEmpty));
  }

  /** Sends the group back as a whole small Parquet file (`whole`: the entire output, without rows). */
  function encode(number: number, frame: pl.DataFrame | undefined, compression: string, orEmpty: boolean): void {
    if (!frame || (frame.height === 0 && !orEmpty)) {
      reply({ type: 'part', group: number, rows: 0, whole: false });
      return;
    }
    const whole = frame.height === 0;
    const encoded = frame.writeParquet({ compression: compression as 'zstd' });
    // One copy into memory of our own that can be handed over (polars' buffer may not be).
    const bytes = new Uint8Array(encoded.length);
    bytes.set(encoded);
    reply({ type: 'part', group: number, rows: frame.height, whole, bytes }, [bytes.buffer]);
  }

  function groupOf(number: number): Group {
    let group = groups.get(number);
    if (!group) groups.set(number, (group = { pending: undefined, schema: undefined, small: [] }));
    return group;
  }

  function add(group: Group, df: pl.DataFrame): void {
    group.schema ??= df.head(0);
    if (df.height === 0) return;
    // Many small frames (the chunks of many small files joined into one group) kept as chunks of
    // the group's frame would each keep buffers of their own (3 000 files of 3 rows: 417 MB peak
    // RSS, 240 MB compacted): they wait in `small` and join the group compacted, COMPACT at a time.
    // A frame of many rows is a chunk of its own, as it comes (no copy).
    if (df.height >= SMALL_ROWS) {
      flushSmall(group);
      group.pending = group.pending ? pl.concat([group.pending, df], { how: 'vertical', rechunk: false }) : df;
      return;
    }
    group.small.push(df);
    if (group.small.length >= COMPACT) flushSmall(group);
  }

  function flushSmall(group: Group): void {
    if (group.small.length === 0) return;
    const joined = group.small.length === 1 ? group.small[0] : pl.concat(group.small, { how: 'vertical', rechunk: true });
    group.small = [];
    group.pending = group.pending ? pl.concat([group.pending, joined], { how: 'vertical', rechunk: false }) : joined;
  }

  /** The group's rows, every frame added (undefined: none). */
  function rowsOf(group: Group): pl.DataFrame | undefined {
    flushSmall(group);
    return group.pending;
  }

  /** Runs `fn`; a failure is reported for the group (the main side fails its output). */
  function guard(number: number, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      fail(number, err);
    }
  }

  function fail(number: number, err: unknown): void {
    groups.delete(number);
    failed.add(number);
    reply({ type: 'failed', group: number, error: serializeError(err) });
  }
}
