/**
 * Stage copies started while the config's slower checks still run. Those checks load every
 * stage module on the main thread and read the source's schema (about 0.3 s on the example
 * job) while the other cores sit idle; a thread or process copy spends about as long booting
 * (its thread or child, apache-arrow, polars, the TS loader, the stage module). Started as
 * soon as the config is valid by its schema, the copies boot beside the checks, and the run
 * adopts them. Measured on the example job (2 cores): see the README's start-up table.
 *
 * Only `thread` and `process` copies start early (the Parquet encoding stage's threads too): an inline stage would run its module and
 * `setup` on the main thread, in the checks' way and before the run's guard catches what it
 * throws. A copy's `setup` may run before the checks end; if they fail, the copies are
 * stopped (as on any failed start) and the checks' errors are what the user sees.
 */
import type { Logger } from 'pino';
import type { StageExecutor } from '../executors';
import { executorFor } from './executor-for';
import type { Plan, PlannedStage } from '../plan/types';

export class EarlyStart {
  private constructor(
    private readonly plan: Plan,
    private readonly started: Map<PlannedStage, { executor: StageExecutor; ready: Promise<void> }>,
  ) {}

  /** Start the copies of `plan`'s thread and process stages now. */
  static begin(plan: Plan, deps: { log: Logger }): EarlyStart {
    const started = new Map<PlannedStage, { executor: StageExecutor; ready: Promise<void> }>();
    for (const stage of plan.stages) {
      if (stage.mode === 'inline') continue;
      let executor: StageExecutor;
      try {
        executor = executorFor(stage, deps);
      } catch {
        continue; // the run creates it again and fails there, with its own error and report
      }
      const ready = executor.start();
      ready.catch(() => undefined); // raced by the run that adopts it, or dropped by discard()
      started.set(stage, { executor, ready });
    }
    return new EarlyStart(plan, started);
  }

  /** How many stages have copies starting early and not yet adopted. */
  get stages(): number {
    return this.started.size;
  }

  /**
   * Resolves once every copy started exists (its thread or process boots without the main
   * thread from then on); never rejects. The caller awaits it before the synchronous checks:
   * a child's spawn waits for its data socket, which needs a few turns of the event loop, and
   * the checks would hold those turns (measured on the example job: the child spawned only
   * after them, ~0.6 s late on a loaded machine).
   */
  async launched(): Promise<void> {
    await Promise.all([...this.started.values()].map((e) => e.executor.launched?.()));
  }

  /** Resolves once every copy not yet adopted is ready or failed to start (never rejects). */
  async settled(): Promise<void> {
    await Promise.all([...this.started.values()].map((e) => e.ready.catch(() => undefined)));
  }

  /** For the run of the same plan: the executor started for `stage`, if one was. Once per stage. */
  adopt(plan: Plan, stage: PlannedStage): { executor: StageExecutor; ready: Promise<void> } | undefined {
    // The same stages: the plan may have been remade around them since (plan/build.ts withProjection).
    if (plan.stages !== this.plan.stages) throw new Error('early start: adopted by the run of another plan');
    const entry = this.started.get(stage);
    this.started.delete(stage);
    return entry;
  }

  /** The run will not happen (the checks failed, or the caller gave up): stop every copy started. */
  async discard(): Promise<void> {
    const left = [...this.started.values()];
    this.started.clear();
    await Promise.all(left.map((e) => e.executor.abort()));
  }
}
