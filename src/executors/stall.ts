/**
 * Node running out of work while something still waits on a stage: a promise that never
 * settles, with nothing left (timer, socket, thread that owes a reply) that could settle it.
 * Node would then emit 'beforeExit' and exit 0 with the work half done, so whatever awaits
 * a stage (a run, a `sluice test` case, `explain --profile`) listens for it and fails naming
 * what was pending. Engine threads and children keep Node running only while they owe a
 * reply, so this does not depend on the sink or the other stages (supervisor/thread.ts,
 * supervisor/child.ts).
 */
import { SluiceError } from '../errors';

export class StalledError extends SluiceError {
  /** `pending`: what never settled ('stage "x" (inline) on batch #3'); `what`: what cannot finish. */
  constructor(pending: string, what = 'the run') {
    super('SLUICE_STALLED', `${what} cannot finish: nothing is left to wait on, but ${pending} never settled (a promise that never resolves or rejects?)`);
  }
}

export interface StallWatch {
  /** Rejects with a StalledError when Node runs out of work; never resolves. */
  readonly stalled: Promise<never>;
  dispose(): void;
}

/** Watch for a stall until disposed; `pending()` says what is waited on then. */
export function watchStall(pending: () => string, what?: string): StallWatch {
  let reject!: (err: unknown) => void;
  const stalled = new Promise<never>((_, r) => (reject = r));
  stalled.catch(() => undefined); // observed by whoever races it
  const onBeforeExit = () => reject(new StalledError(pending(), what));
  process.on('beforeExit', onBeforeExit);
  return { stalled, dispose: () => process.off('beforeExit', onBeforeExit) };
}
