/**
 * One sink's side of a resumable run: the batches it is handed go, unit by unit, into frames
 * files under the sink's staging area instead of into the sink. A unit's file is written in
 * the attempt's own directory (`_temporary/<attempt>/`), fsynced, and renamed into `units/`
 * once a batch of a later unit arrives (input order: the run is ordered) or the stream ends;
 * the run records it in the manifest once every sink has done so (units.ts). Nothing here
 * decides that a unit is done: only the manifest does.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { blobKind } from '../../batch/blob';
import { PART_BLOB, partOf } from '../parquet/encoder/parts';
import { frameBytes } from './frames';
import { IoQueue } from './io-queue';

/** What one sink staged for one unit: the file (relative to the run's staging directory) and the rows it stands for. */
export interface StagedUnit {
  file: string;
  rows: number;
}

export function unitFileName(unit: number): string {
  return `u${String(unit).padStart(6, '0')}.frames`;
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function syncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The file work is done in the background, in order, on the run's one I/O queue (io-queue.ts):
 * the main thread only encodes the frames, so the run goes on while a unit's fsyncs and renames
 * happen (they were a third of a resumable run's time when they blocked it). The manifest line
 * of a unit is queued after its files' work, so it is written only once they are durable.
 */
export class UnitStager {
  private current: { unit: number; file: Promise<FileHandle>; temp: string; rows: number } | undefined;
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
  ) {}

  /** `unit`: the input file's unit index; batches come in unit order. */
  write(batch: RecordBatch, unit: number): void {
    if (this.current && unit < this.current.unit) throw new Error(`internal: a batch of unit ${unit} after unit ${this.current.unit} (resumable runs are ordered)`);
    if (!this.current || unit > this.current.unit) {
      this.finishCurrent();
      this.passed(unit);
      const temp = path.join(this.attemptDir, unitFileName(unit));
      const file = this.io.run(async () => {
        await mkdir(this.attemptDir, { recursive: true });
        return open(temp, 'w');
      });
      this.current = { unit, file, temp, rows: 0 };
    }
    const c = this.current;
    const bytes = frameBytes(batch);
    this.io.push(async () => {
      const fh = await c.file;
      for (const b of bytes) await fh.write(b);
    }, bytes.reduce((n, b) => n + b.byteLength, 0));
    c.rows += blobKind(batch) === PART_BLOB ? partOf(batch).rows : batch.numRows;
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
    // Closed even after a failure of the queue.
    if (c) this.io.always(async () => (await c.file.catch(() => undefined))?.close());
  }

  private finishCurrent(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    const name = unitFileName(c.unit);
    // Durable before it is named as done: data, then the rename, then the folder's entry.
    this.io.push(async () => {
      const fh = await c.file;
      await fh.sync();
      await fh.close();
      await rename(c.temp, path.join(this.dir, 'units', name));
      await syncDirAsync(path.join(this.dir, 'units'));
    });
    this.staged.set(c.unit, { file: path.join('units', name), rows: c.rows });
  }
}
