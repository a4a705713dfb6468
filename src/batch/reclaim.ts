/**
 * polars frames hold native memory that V8 does not see: a frame's memory is freed only
 * when its small JS wrapper is collected and then its finalizer runs, which Node queues as
 * an immediate. A thread that allocates little JavaScript (a stage copy, the Parquet
 * encoder) is rarely collected, and one fed task after task may not reach the check phase
 * where finalizers run: its memory then grew with the input (measured: 4 GB for 10 M rows
 * through a polars stage in a thread, 2.5 GB in the encoder).
 *
 * After each task that used polars: a young-generation collection (≈0.05 ms: frames made by
 * the task are young), a full one when it fits a time budget (frames kept across tasks, such
 * as a stateful stage's, grow old), then a turn through the check phase so the finalizers
 * run. The budget counts the pause on this thread only (V8 marks with helper threads too),
 * so it is kept small: forced full collections at 5 % cost 5 s of CPU in a 17 s job.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (options?: { type: 'minor' | 'major' }) => void;
let gc: Gc | undefined;

function collector(): Gc {
  if (!gc) {
    // Exposes `gc` to contexts made from now on; harmless to the rest of the process.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as Gc;
  }
  return gc;
}

export class FrameReclaimer {
  private lastFull = -Infinity;
  private fullMs = 0;
  /** Full collections counted (for tests). */
  fullCollections = 0;

  /** @param budget most of this thread's time full collections may take (0.01: 1 %). */
  constructor(private readonly budget = 0.01) {}

  async afterTask(): Promise<void> {
    const collect = collector();
    const start = performance.now();
    if (start - this.lastFull >= this.fullMs / this.budget) {
      collect();
      this.lastFull = performance.now();
      this.fullMs = this.lastFull - start;
      this.fullCollections++;
    } else {
      collect({ type: 'minor' });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
