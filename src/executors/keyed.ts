/**
 * Keyed routing (`key: [...]` on a stage): every row goes to the copy `hash(key values) mod
 * copies` (batch/key-hash.ts; placement: keyed-place.ts), so each copy sees every row of its
 * keys and a stage that keeps state until `flush` (a per-key aggregate) runs as several
 * copies with the answer of one.
 *
 * One executor to the scheduler, like any other: `process(item)` cuts the item into one part
 * per copy that has rows (batch/take.ts: same schema, no trip through polars), runs each part
 * on its copy through the mode's own executor (`processOn`), and answers with the parts'
 * outputs in copy order, numbered as the item. `flush()` flushes every copy; the outputs come
 * in copy order. Slots are per copy (`slotsPerCopy` parts each): a copy busy with a hot key
 * holds back only its own parts.
 *
 * The cut is made here, on the main thread, once per item (bench/keyed.ts measures it against
 * the stage's work). Cutting in the producer's worker instead would spare the main thread.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { hashKeyRows } from '../batch/key-hash';
import { OwnedBatch } from '../batch/owned';
import { takeRows } from '../batch/take';
import { isCsvChunk } from '../csv/item';
import { AbortedError, StageError, type SluiceError } from '../errors';
import type { PlannedStage } from '../plan/types';
import { copiesWithRows, partsToStart, rowsByCopy } from './keyed-place';
import type { StageExecutor, TransportStats } from './types';

type Routable = StageExecutor & Required<Pick<StageExecutor, 'processOn'>>;

interface Waiting {
  copy: number;
  start: () => void;
  /** abort(): the part never runs; it is released and its promise fails. */
  drop: () => void;
}

/** Time spent cutting items into parts, and rows routed per copy (the bench and tests read them). */
export interface KeyedStats {
  splitMs: number;
  rowsPerCopy: number[];
}

export class KeyedExecutor implements StageExecutor {
  readonly stage: string;
  readonly mode: StageExecutor['mode'];
  readonly copies: number;
  readonly slots: number;
  readonly launched?: () => Promise<void>;
  private readonly key: readonly string[];
  private readonly perCopy: number;
  private readonly inFlight: number[];
  private waiting: Waiting[] = [];
  readonly keyed: KeyedStats;

  constructor(
    planned: PlannedStage,
    private readonly inner: Routable,
    _deps: { log: Logger },
  ) {
    if (!planned.key?.length) throw new Error(`internal: stage "${planned.name}" has no key`);
    this.stage = inner.stage;
    this.mode = inner.mode;
    this.copies = inner.copies;
    this.slots = inner.slots;
    this.key = planned.key;
    this.perCopy = planned.slotsPerCopy;
    this.inFlight = new Array<number>(this.copies).fill(0);
    this.keyed = { splitMs: 0, rowsPerCopy: new Array<number>(this.copies).fill(0) };
    if (inner.launched) this.launched = () => inner.launched!();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  leaveOut(perMember: readonly (readonly string[])[]): void {
    this.inner.leaveOut?.(perMember);
  }

  process(input: OwnedBatch): Promise<OwnedBatch> {
    return input.consume(async (item) => {
      const { seq, sourceFile } = item;
      const parts = this.split(item);
      // Parts cut from the item are copies of their rows: its memory goes back now, not after the stage.
      if (item.held) item.release();
      const settled = await Promise.allSettled(parts.map(({ copy, part }) => this.onCopy(copy, part)));
      const outputs = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        for (const o of outputs) o.release();
        throw failed.reason;
      }
      if (outputs.length === 1) return outputs[0];
      // One value for the scheduler, as from any stage: the parts' outputs in copy order, one lease over theirs.
      return new OwnedBatch({ seq, sourceFile, batches: outputs.flatMap((o) => o.batches), lease: { release: () => outputs.forEach((o) => o.release()) } });
    });
  }

  flush(): Promise<OwnedBatch[]> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  abort(): Promise<void> {
    // Parts waiting for their copy never start: each fails as the inner executor fails a task after abort.
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.drop();
    return this.inner.abort();
  }

  onFatal(listener: (err: SluiceError) => void): void {
    this.inner.onFatal(listener);
  }

  stats(): TransportStats {
    return this.inner.stats();
  }

  childPeakRss(): number[] {
    return this.inner.childPeakRss?.() ?? [];
  }

  /** The item's rows of each copy that has some, as an item of its own (same seq and file). */
  private split(item: OwnedBatch): { copy: number; part: OwnedBatch }[] {
    const { seq, sourceFile } = item;
    if (isCsvChunk(item.batches)) throw new Error(`internal: keyed stage "${this.stage}" was given CSV text (the plan must not fuse parsing into a keyed stage)`);
    const started = performance.now();
    try {
      const perCopy: RecordBatch[][] = Array.from({ length: this.copies }, () => []);
      let whole = 0;
      for (const batch of item.batches) {
        const rows = rowsByCopy(hashKeyRows(batch, this.key), this.copies);
        const counts = rows.map((r) => r.length);
        for (const copy of copiesWithRows(counts)) {
          this.keyed.rowsPerCopy[copy] += counts[copy];
          // All rows on one copy: the batch as it is, no copy made (it stays in the item's memory).
          if (counts[copy] === batch.numRows) whole++;
          perCopy[copy].push(counts[copy] === batch.numRows ? batch : takeRows(batch, rows[copy]));
        }
      }
      const copies = copiesWithRows(perCopy.map((b) => b.length));
      // Parts holding a batch of the item whole share the item's one lease, released by the last of them.
      const shares = whole ? copies.filter((c) => perCopy[c].some((b) => item.batches.includes(b))).length : 0;
      const own = shares ? item.moveTo({}) : undefined;
      let left = shares;
      return copies.map((copy) => {
        const batches = perCopy[copy];
        if (!own || !batches.some((b) => item.batches.includes(b))) return { copy, part: OwnedBatch.plain(seq, batches, sourceFile) };
        if (shares === 1) return { copy, part: own.moveTo({ batches, backing: batches.length === 1 && batches[0] === own.batches[0] ? own.backing : undefined }) };
        return { copy, part: new OwnedBatch({ seq, sourceFile, batches, lease: { release: () => --left === 0 && own.release() } }) };
      });
    } catch (err) {
      throw new StageError({ stage: this.stage, seq, sourceFile }, 'process', new Error(`routing rows by key (${this.key.join(', ')}): ${(err as Error).message}`));
    } finally {
      this.keyed.splitMs += performance.now() - started;
    }
  }

  /** Runs a part on its copy once the copy has a free slot (partsToStart); parts for other copies go ahead of it meanwhile. */
  private onCopy(copy: number, part: OwnedBatch): Promise<OwnedBatch> {
    return new Promise<OwnedBatch>((resolve, reject) => {
      const start = () => {
        this.inner.processOn(copy, part).then(resolve, reject).finally(() => {
          this.inFlight[copy]--;
          this.startWaiting();
        });
      };
      const drop = () => {
        part.release();
        reject(new AbortedError(`stage "${this.stage}" was stopped`));
      };
      this.waiting.push({ copy, start, drop });
      this.startWaiting();
    });
  }

  private startWaiting(): void {
    const chosen = new Set(partsToStart(this.waiting.map((w) => w.copy), this.inFlight, this.perCopy));
    if (!chosen.size) return;
    const go = this.waiting.filter((_, i) => chosen.has(i));
    this.waiting = this.waiting.filter((_, i) => !chosen.has(i));
    for (const w of go) {
      this.inFlight[w.copy]++;
      w.start();
    }
  }
}
