/**
 * Runs a test file starts all at once (in beforeAll) and its tests await, each its own, at most
 * `n` at a time: a run that mostly waits (a CLI child starting up, a stage's timeout, a bounded
 * drain) lends the machine to the next one instead of leaving it idle, and each test still
 * asserts on its own run. Work is started in the order given, which should be the order the
 * tests await it (a test never waits behind runs of tests after it).
 *
 * Runs in the test's own process (test/helpers/in-process-run.ts) load modules through jest's
 * require, which jest refuses between tests: a file with such runs awaits them all in its
 * beforeAll (settled()); runs of other processes (CLI children) may go on across tests.
 */
export class Started<T> {
  private readonly runs = new Map<string, Promise<T>>();
  private active = 0;
  private readonly queue: (() => void)[] = [];

  /** Runs declared beside their tests (at collection time), started by startAll() (from beforeAll). */
  private readonly declared: [string, () => Promise<T>][] = [];

  constructor(private readonly n = 2) {}

  /** Declare a run to start with the others in startAll(); its test awaits it with get(key). */
  declare(key: string, work: () => Promise<T>): void {
    this.declared.push([key, work]);
  }

  /** Start every declared run, in the order declared (call it from beforeAll, once the inputs are written). */
  startAll(): void {
    for (const [key, work] of this.declared.splice(0)) void this.start(key, work);
  }

  /** Queue `work` under `key` (once: a second call with the same key returns the first run). */
  start(key: string, work: () => Promise<T>): Promise<T> {
    let run = this.runs.get(key);
    if (!run) {
      run = this.slot(work);
      // Handled here, so a run that rejects before its test awaits it is no unhandled rejection.
      run.catch(() => undefined);
      this.runs.set(key, run);
    }
    return run;
  }

  /** The run started under `key`; a test asking for one that was never started is a mistake in the test. */
  get(key: string): Promise<T> {
    const run = this.runs.get(key);
    if (!run) throw new Error(`no run was started as "${key}"`);
    return run;
  }

  /** Every run settled (afterAll: nothing of the file's is left running when its workspace goes). */
  async settled(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.catch(() => undefined)));
  }

  private async slot(work: () => Promise<T>): Promise<T> {
    if (this.active < this.n) this.active++;
    else await new Promise<void>((resolve) => this.queue.push(resolve)); // the slot is handed over
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}
