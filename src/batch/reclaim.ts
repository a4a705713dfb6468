/**
 * polars frames hold native memory that V8 does not see: a frame's memory is freed only
 * when its small JS wrapper is collected and then its finalizer runs, which Node queues as
 * an immediate. Wrapped native objects survive young-generation collections (their weak
 * handles keep them), so only a full collection frees them, and a thread that allocates
 * little JavaScript (a stage copy, the Parquet encoder) rarely gets one: its memory grew
 * with the input (measured: 4 GB for 10 M rows through a polars stage in a thread).
 *
 * After each task that used polars: a full collection once the process has grown by
 * `growthBytes` since the last one (and it fits a time budget), then a turn through the
 * check phase so the finalizers run. Growth is measured on the process's RSS, the one
 * gauge that sees polars' memory.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = () => void;
let gc: Gc | undefined;

function collector(): Gc {
  if (!gc) {
    // Exposes `gc` to contexts made from now on; harmless to the rest of the process.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as Gc;
  }
  return gc;
}

export interface ReclaimOptions {
  /** RSS growth since the last full collection that calls for the next one. Default 64 MiB. */
  growthBytes?: number;
  /** Most of this thread's time full collections may take. Default 0.05 (5 %). */
  budget?: number;
}

export class FrameReclaimer {
  private readonly growthBytes: number;
  private readonly budget: number;
  private baseline = process.memoryUsage.rss();
  private lastFull = -Infinity;
  private fullMs = 0;
  private collected = false;
  /** Full collections so far (tests, diagnostics). */
  fullCollections = 0;

  constructor(o: ReclaimOptions = {}) {
    this.growthBytes = o.growthBytes ?? 64 * 1024 * 1024;
    this.budget = o.budget ?? 0.05;
  }

  async afterTask(): Promise<void> {
    const start = performance.now();
    if (process.memoryUsage.rss() - this.baseline > this.growthBytes && start - this.lastFull >= this.fullMs / this.budget) {
      collector()();
      this.lastFull = performance.now();
      this.fullMs = Math.max(this.lastFull - start, 0.05); // a clock too coarse to see it is no licence
      this.fullCollections++;
      this.collected = true;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.collected) {
      // The finalizers ran: what is left is what the process really holds.
      this.baseline = process.memoryUsage.rss();
      this.collected = false;
    }
  }
}
