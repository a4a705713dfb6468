/**
 * One sink's side of a resumable run: the batches it is handed go, unit by unit, into frames
 * files under the sink's staging area instead of into the sink. A unit's file is written in
 * the attempt's own directory (`_temporary/<attempt>/`), fsynced, and renamed into `units/`
 * once a batch of a later unit arrives (input order: the run is ordered) or the stream ends;
 * the run records it in the manifest once every sink has done so (units.ts). Nothing here
 * decides that a unit is done: only the manifest does.
 */
import { mkdirSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { blobKind } from '../../batch/blob';
import { PART_BLOB, partOf } from '../parquet/encoder/parts';
import { frameChunks } from './frames';
import type { StagedFile } from './staged-file';
import type { StagedWriter } from './staging-thread';
import { stagingFailure, type StreamLabel } from './failures';
import type { IoQueue } from './io-queue';

/** What one sink staged for one unit: the file (relative to the run's staging directory) and the rows it stands for. */
export interface StagedUnit {
  file: string;
  rows: number;
}

export function unitFileName(unit: number): string {
  return `u${String(unit).padStart(6, '0')}.frames`;
}

async function syncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The rows a staged batch holds: an encoded Parquet part's own count (its blob batch has one row). */
export function stagedRows(batch: RecordBatch): number {
  return blobKind(batch) === PART_BLOB ? partOf(batch).rows : batch.numRows;
}

/**
 * A frame goes to the unit's file as it comes: the main thread encodes its small metadata and
 * hands the batch's buffers to the staging thread, which copies them into the file's aligned
 * buffers and writes those straight to the disk (staging-thread.ts, staged-file.ts; where the
 * filesystem refuses that, the batch's own buffers are written through the page cache), so the
 * pipeline never waits for the disk. Its promise settles once the batch's memory may be reused:
 * the caller holds the batch until then (the chunks view its memory, which goes back to its
 * pool once it is handed on).
 * Writes to one file are chained, in order. What waits for the
 * disk is done in the background, in order, on the run's one I/O queue (io-queue.ts): a unit's
 * fsync (after its last write), rename and the folder's fsync, then its manifest line (queued
 * after them by units.ts, so it is written only once they are durable). The next unit's frames
 * are written meanwhile, to its own file, instead of waiting behind those fsyncs.
 */
export class UnitStager {
  private current: { unit: number; file: StagedFile; temp: string; rows: number; written: Promise<void> } | undefined;
  private attemptDirMade = false;
  /**
   * Whether this stream's files bypass the page cache: asked of the filesystem by its first file
   * (staged-file.ts), unless SLUICE_STAGING_DIRECT=0 (a filesystem that takes O_DIRECT and
   * misbehaves with it).
   */
  private direct: boolean | 'probe' = process.env.SLUICE_STAGING_DIRECT === '0' ? false : 'probe';
  /** Units this sink has finished (their files queued to be made durable), by unit index. */
  readonly staged = new Map<number, StagedUnit>();

  constructor(
    /** The run's staging directory for this sink (`.<sink>.sluice-staging/<runId>`). */
    private readonly dir: string,
    /** This attempt's own directory, under `_temporary/`. */
    private readonly attemptDir: string,
    /** Called when this sink has passed `unit`: every unit before it is finished here. */
    private readonly passed: (unit: number) => void,
    private readonly io: IoQueue,
    /** Opens the unit files (the run's staging thread: staging-thread.ts). */
    private readonly writer: StagedWriter,
    /** What this stream is, for a failure's message (failures.ts). */
    private readonly label?: StreamLabel,
    /** A unit's input file, for a failure's message. */
    private readonly inputOf: (unit: number) => string | undefined = () => undefined,
  ) {}

  /** A failure of the file work of `unit` as a SinkError naming this stream, the unit and `file` (failures.ts). */
  private failure(err: unknown, action: string, unit: number, file: string): Error {
    return stagingFailure(err, action, this.label, unit, this.inputOf(unit), file);
  }

  /**
   * `unit`: the input file's unit index; batches come in unit order. Settles once the frame is
   * in the file (rejects if the write failed): hold `batch` until then.
   */
  write(batch: RecordBatch, unit: number): Promise<void> {
    if (this.current && unit < this.current.unit) throw new Error(`internal: a batch of unit ${unit} after unit ${this.current.unit} (resumable runs are ordered)`);
    if (!this.current || unit > this.current.unit) {
      this.finishCurrent();
      this.passed(unit);
      const temp = path.join(this.attemptDir, unitFileName(unit));
      let file: StagedFile;
      try {
        if (!this.attemptDirMade) mkdirSync(this.attemptDir, { recursive: true });
        this.attemptDirMade = true;
        file = this.writer.open(temp, this.direct);
        this.direct = file.direct;
      } catch (err) {
        throw this.failure(err, 'create the staged file', unit, temp);
      }
      this.current = { unit, file, temp, rows: 0, written: Promise.resolve() };
    }
    const c = this.current;
    const { chunks } = frameChunks(batch);
    // After the frames before it (a failed one fails every later one, and the unit's fsync); an
    // OS error is said once, as a SinkError naming the unit (a later frame's passes it on as it is).
    const written = c.written.then(() => c.file.append(chunks)).catch((err: unknown) => {
      throw this.failure(err, 'write the staged batches', c.unit, c.temp);
    });
    c.written = written;
    // A write nobody awaits (rejected rows staged at a unit's end) fails the unit's fsync instead: not an unhandled rejection.
    written.catch(() => undefined);
    c.rows += stagedRows(batch);
    return written;
  }

  /** The unit a batch without a unit of its own belongs to (a stage's flush at the end): the last one seen. */
  get currentUnit(): number | undefined {
    return this.current?.unit;
  }

  /** End of stream: the unit being written is finished. */
  finish(): void {
    this.finishCurrent();
  }

  /** Drop the unit being written (the run failed): its temporary goes with the attempt directory. */
  abort(): void {
    const c = this.current;
    this.current = undefined;
    // Closed once its writes have settled (closing it under a write would let the number be reused).
    if (c) this.io.always(() => closeAfter(c));
  }

  private finishCurrent(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    const name = unitFileName(c.unit);
    // Durable before it is named as done: data (every write settled), then the rename, then the folder's entry.
    const done = path.join(this.dir, 'units', name);
    this.io.push(async () => {
      await c.written;
      await c.file.flush().catch((err: unknown) => {
        throw this.failure(err, 'write the staged batches', c.unit, c.temp);
      });
      await c.file.sync().catch((err: unknown) => {
        throw this.failure(err, 'make the staged file durable (fsync)', c.unit, c.temp);
      });
      await rename(c.temp, done).catch((err: unknown) => {
        throw this.failure(err, `rename the staged file to ${done}`, c.unit, c.temp);
      });
      await syncDirAsync(path.join(this.dir, 'units')).catch((err: unknown) => {
        throw this.failure(err, 'make the staged file\'s name durable (fsync of its folder)', c.unit, path.join(this.dir, 'units'));
      });
    });
    // Closed once that ran, even after a failure of the queue (then it did not run).
    this.io.always(() => closeAfter(c));
    this.staged.set(c.unit, { file: path.join('units', name), rows: c.rows });
  }
}

async function closeAfter(c: { file: StagedFile; written: Promise<void> }): Promise<void> {
  await c.written.catch(() => undefined);
  await c.file.close();
}
