/**
 * A Parquet encoder thread (see pool.ts): the encoder's work (serve.ts) over this thread's
 * parentPort. It exits by itself when the pool's stop flag is set, between two messages.
 */
import '../../../arrow-bundle'; // first: every apache-arrow of this thread is the one bundled file
import { parentPort, workerData } from 'node:worker_threads';
import { FrameReclaimer } from '../../../batch/reclaim';
import { serveEncoder } from './serve';

const flags = workerData as { stop: SharedArrayBuffer; busy: SharedArrayBuffer };
serveEncoder(parentPort!, {
  stop: new Int32Array(flags.stop),
  busy: new Int32Array(flags.busy),
  // What is still queued is dropped; whatever was being encoded finished first (a termination
  // inside polars' writer panics: supervisor's STOP_GRACE_MS).
  exit: () => process.exit(0),
  /**
   * polars frames hold native memory that V8 does not see, freed only once their wrappers are
   * collected (batch/reclaim.ts); this thread allocates almost no JavaScript, so without help
   * every encoded row group's memory would stay (measured: 0.7 → 1.9 GB from 1× to 4× input).
   * Its heap is tiny, so a full collection costs about a millisecond: collect after every
   * batch (within the time budget), which kept peak RSS lowest.
   */
  reclaimer: new FrameReclaimer({ growthBytes: 0 }),
});
