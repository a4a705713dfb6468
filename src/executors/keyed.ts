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
 * Where the cut is made (plan/key-split.ts): a producer that runs off the main thread (a thread
 * stage's copy, the source thread, a process child) cuts its own output by this stage's key
 * before it crosses (batch/key-split.ts), and the item arrives as its parts (`item.split`):
 * here they are only routed, no row is hashed or copied on the main thread. Otherwise (an
 * inline producer, or output the producer did not cut: a flush, a combine's merge) the item is
 * cut here, with the same function. `keyed()` counts both, and the bytes each cut copied
 * (bench/keyed.ts measures the cut against the stage's work).
 */
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { keyError, splitByKey } from '../batch/key-split';
import { OwnedBatch } from '../batch/owned';
import { isCsvChunk } from '../csv/item';
import { AbortedError, type SluiceError } from '../errors';
import type { PlannedStage } from '../plan/types';
import { partsByCopy, partsToStart } from './keyed-place';
import type { KeyedStats, StageExecutor, TransportStats } from './types';

type Routable = StageExecutor & Required<Pick<StageExecutor, 'processOn'>>;

interface Waiting {
  copy: number;
  start: () => void;
  /** abort(): the part never runs; it is released and its promise fails. */
  drop: () => void;
}

export type { KeyedStats } from './types';

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
  private readonly keyedStats: KeyedStats;

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
    this.keyedStats = { splitMs: 0, rowsPerCopy: new Array<number>(this.copies).fill(0), cutOnMain: 0, cutByProducer: 0, bytesCopiedOnMain: 0, bytesCopiedByProducer: 0, producers: [] };
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
      // Rows a copy rejected (ctx.reject) are positions in its part, cut by key from the item:
      // not the item's positions, so no source row number can be told for them.
      const rejected = outputs.flatMap((o) => (o.rejected ?? []).map(({ at: _at, ...r }) => r));
      if (outputs.length === 1 && !rejected.length) return outputs[0];
      // One value for the scheduler, as from any stage: the parts' outputs in copy order, one lease over theirs.
      return new OwnedBatch({ seq, sourceFile, batches: outputs.flatMap((o) => o.batches), lease: { release: () => outputs.forEach((o) => o.release()) }, ...(rejected.length > 0 && { rejected }) });
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

  keyed(): KeyedStats {
    return { ...this.keyedStats, rowsPerCopy: [...this.keyedStats.rowsPerCopy], producers: [...this.keyedStats.producers] };
  }

  childPeakRss(): number[] {
    return this.inner.childPeakRss?.() ?? [];
  }

  /**
   * The item's parts, one item per copy that has rows (same seq and file): as the producer cut
   * them (`item.split`, for this key and these copies), else cut here.
   */
  private split(item: OwnedBatch): { copy: number; part: OwnedBatch }[] {
    const { seq, sourceFile } = item;
    if (isCsvChunk(item.batches)) throw new Error(`internal: keyed stage "${this.stage}" was given CSV text (the plan must not fuse parsing into a keyed stage)`);
    const { batches, copyOf } = this.cut(item);
    batches.forEach((b, i) => (this.keyedStats.rowsPerCopy[copyOf[i]] += b.numRows));
    const groups = partsByCopy(copyOf, this.copies);
    // No batch at all: one empty part still goes through copy 0, as through one copy.
    if (!groups.length) groups.push({ copy: 0, batches: [] });
    const own = new Set(item.batches);
    // Parts holding a batch of the item as it is (all of them, when the producer cut) share the item's one lease, released by the last of them.
    const shares = groups.filter((g) => g.batches.some((i) => own.has(batches[i]))).length;
    const held = shares ? item.moveTo({}) : undefined;
    let left = shares;
    return groups.map(({ copy, batches: at }) => {
      const part = at.map((i) => batches[i]);
      if (!held || !part.some((b) => own.has(b))) return { copy, part: OwnedBatch.plain(seq, part, sourceFile) };
      if (shares === 1) return { copy, part: held.moveTo({ batches: part, backing: part.length === 1 && part[0] === held.batches[0] ? held.backing : undefined }) };
      return { copy, part: new OwnedBatch({ seq, sourceFile, batches: part, lease: { release: () => --left === 0 && held.release() } }) };
    });
  }

  /** The item's batches cut by key, and the copy of each: the producer's cut when it made one for this stage, else one made here. */
  private cut(item: OwnedBatch): { batches: RecordBatch[]; copyOf: readonly number[] } {
    const pre = item.split;
    if (pre && pre.copies === this.copies && pre.key.length === this.key.length && pre.key.every((k, i) => k === this.key[i])) {
      this.keyedStats.cutByProducer++;
      this.keyedStats.bytesCopiedByProducer += pre.copiedBytes;
      const by = pre.threadId ?? pre.pid;
      if (by !== undefined && !this.keyedStats.producers.includes(by)) this.keyedStats.producers.push(by);
      return { batches: item.batches, copyOf: pre.copyOf };
    }
    const started = performance.now();
    try {
      const parts = splitByKey(item.batches, this.key, this.copies);
      this.keyedStats.cutOnMain++;
      this.keyedStats.bytesCopiedOnMain += parts.copiedBytes;
      return parts;
    } catch (err) {
      throw keyError(this.stage, this.key, item, err);
    } finally {
      this.keyedStats.splitMs += performance.now() - started;
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
