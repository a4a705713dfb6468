/**
 * The Parquet encoder thread (see parquet-encoder.ts): turns Arrow IPC batches into row
 * groups with polars while the main thread goes on reading and running stages. Each row
 * group (`rowGroupSize` rows, the last one shorter) is encoded as a small whole Parquet
 * file and appended to the output by ParquetAssembler, which writes one merged footer at
 * the end. Serves every Parquet file of the process (partitioned sinks write many).
 */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import pl from 'nodejs-polars';
import { FrameReclaimer } from '../../../batch/reclaim';
import { ParquetAssembler } from '../../parquet/footer';
import type { EncoderReply, EncoderRequest, EncoderThreadData } from './parquet-encoder';

/**
 * polars' eager writer cuts a frame of H rows into floor(H / 512²) row groups, so it keeps
 * a frame as one row group only below 2 × 512² rows (its streaming sink, the only other
 * writer, takes at most 32 767 rows a group in 0.24.1). The config schema has the same bound.
 */
const MAX_ROW_GROUP_ROWS = 2 * 262_144 - 1;
/**
 * Rows waiting for a full row group, over all open files (a partitioned sink may have
 * dozens), are bounded by this many bytes (as Arrow IPC): past it, the biggest waiting
 * group is written early, shorter.
 */
const PENDING_BUDGET_BYTES: number = (workerData as EncoderThreadData).pendingBudgetBytes;

interface OpenFile {
  fd: number;
  compression: string;
  rowGroupSize: number;
  assembler: ParquetAssembler;
  /** Rows waiting for a full row group, and their size as IPC bytes (estimated after a cut). */
  pending: pl.DataFrame | undefined;
  pendingBytes: number;
  /** A zero-row frame with the schema, for an output without rows. */
  schema: pl.DataFrame | undefined;
  rows: number;
  failed: boolean;
}

const files = new Map<number, OpenFile>();

/**
 * polars frames hold native memory that V8 does not see, freed only once their wrappers are
 * collected (batch/reclaim.ts); this thread allocates almost no JavaScript, so without help
 * every encoded row group's memory would stay (measured: 0.7 → 1.9 GB from 1× to 4× input).
 */
// Its heap is tiny, so a full collection costs about a millisecond: collect after every
// batch (within the time budget), which kept peak RSS lowest.
const reclaimer = new FrameReclaimer({ growthBytes: 0 });
const port = parentPort!;
const reply = (r: EncoderReply) => port.postMessage(r);

/**
 * Messages are handled one at a time with a turn of the event loop between them, so the
 * finalizers that free collected frames run (they wait in the check phase: a thread going
 * from message to message never got there, and grew by ~50 MB a row group when it was the
 * slowest part of a conversion).
 */
let queue = Promise.resolve();
port.on('message', (m: EncoderRequest) => {
  queue = queue.then(async () => {
    try {
      handle(m);
    } catch (err) {
      fail(m.id, err);
    }
    if (m.op === 'batch') await reclaimer.afterTask();
  });
});

function handle(m: EncoderRequest): void {
  if (m.op === 'batch') {
    const file = files.get(m.id);
    let df: pl.DataFrame | undefined;
    try {
      // polars copies the bytes into its own memory: the slot is free again at once.
      if (file && !file.failed) df = pl.readIPCStream(Buffer.from(m.sab, 0, m.length));
    } catch (err) {
      fail(m.id, err);
    } finally {
      reply({ op: 'free', slot: m.slot });
    }
    if (df && file && !file.failed) guard(m.id, () => add(file, df!, m.length));
    keepWithinBudget();
    return;
  }
  if (m.op === 'open') {
    if (m.rowGroupSize > MAX_ROW_GROUP_ROWS) {
      fail(m.id, new Error(`rowGroupSize ${m.rowGroupSize} is above ${MAX_ROW_GROUP_ROWS}, the most polars 0.24.1 writes as one row group`));
      return;
    }
    files.set(m.id, { fd: m.fd, compression: m.compression, rowGroupSize: m.rowGroupSize, assembler: new ParquetAssembler(), pending: undefined, pendingBytes: 0, schema: undefined, rows: 0, failed: false });
    return;
  }
  if (m.op === 'close') {
    const file = files.get(m.id);
    if (file && !file.failed && (guard(m.id, () => finish(file)))) reply({ op: 'closed', id: m.id, rows: file.rows, rowGroups: file.assembler.rowGroups });
    files.delete(m.id);
    return;
  }
  // abort: drop what was pending; the caller closes the descriptor and removes the file
  files.delete(m.id);
  reply({ op: 'aborted', id: m.id });
}

function add(file: OpenFile, df: pl.DataFrame, bytes: number): void {
  file.schema ??= df.head(0);
  if (df.height === 0) return;
  file.pending = file.pending ? pl.concat([file.pending, df], { how: 'vertical', rechunk: false }) : df;
  file.pendingBytes += bytes;
  const size = file.rowGroupSize;
  while (file.pending && file.pending.height >= size) {
    const rows: number = file.pending.height;
    encode(file, file.pending.slice(0, size));
    file.pending = rows > size ? file.pending.slice(size, rows - size) : undefined;
    file.pendingBytes = file.pending ? (file.pendingBytes * (rows - size)) / rows : 0;
  }
}

function keepWithinBudget(): void {
  let total = 0;
  for (const f of files.values()) total += f.pendingBytes;
  while (total > PENDING_BUDGET_BYTES) {
    let biggest: [number, OpenFile] | undefined;
    for (const entry of files) if (!biggest || entry[1].pendingBytes > biggest[1].pendingBytes) biggest = entry;
    const [id, file] = biggest!;
    total -= file.pendingBytes;
    guard(id, () => flushPending(file));
  }
}

function flushPending(file: OpenFile): void {
  const pending = file.pending;
  file.pending = undefined;
  file.pendingBytes = 0;
  if (pending) encode(file, pending);
}

function finish(file: OpenFile): void {
  flushPending(file);
  if (file.assembler.rowGroups === 0) {
    // No rows: a whole file with the schema (or no columns at all).
    write(file, (file.schema ?? pl.DataFrame({})).writeParquet({ compression: file.compression as 'zstd' }));
    return;
  }
  write(file, file.assembler.footer());
}

/** One row group, as a whole small Parquet file, appended to the output. */
function encode(file: OpenFile, df: pl.DataFrame): void {
  const part = df.writeParquet({ compression: file.compression as 'zstd' });
  if (file.assembler.rowGroups === 0 && file.assembler.written === 0) write(file, file.assembler.header());
  write(file, file.assembler.add(part));
  file.rows += df.height;
}

function write(file: OpenFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(file.fd, bytes, done, bytes.length - done);
}

/** Runs `fn`; a failure is reported for file `id` (and later batches of it are ignored). */
function guard(id: number, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    fail(id, err);
    return false;
  }
}

function fail(id: number, err: unknown): void {
  const file = files.get(id);
  if (file) file.failed = true;
  const e = err instanceof Error ? err : new Error(String(err));
  reply({ op: 'failed', id, message: e.message, stack: e.stack });
}
