/**
 * Several sinks committed together: all new outputs or all old ones, a crash included.
 *
 * Every sink prepares (closes, syncs, checks: after that only renames can fail); `check` sees
 * what each wrote and may still refuse; then a commit journal is written beside every target
 * (journal.ts) and each output is published (renamed into place); then the journal goes.
 * A failure before the first rename throws, and the caller aborts every sink (the run's
 * teardown, runtime/teardown.ts, which registered them when they were opened): every previous
 * output stays, no temporary is left. A crash after the journal is written is rolled forward by the next run
 * on any target, or by `sluice recover`.
 *
 * One sink needs no journal: its publication is one rename (a directory's two are undone by
 * siblings.ts), so a run with one sink costs what it did before.
 */
import { SinkError } from '../../errors';
import { publicationState } from './atomic';
import { CommitJournal } from './journal';
import { stopAt } from './stop-at';
import type { Prepared, Publish, Sink, SinkResult } from './types';

/**
 * Commit `sinks` together. `check` runs once all are prepared, with the rows each wrote (in
 * the order of `sinks`); a throw there commits nothing. On a failure it throws and the caller
 * aborts the sinks (its teardown), which removes every temporary, unless some output was
 * published already (a rename failing after another succeeded: the disk, or something other
 * than sluice in the way); then every sink is kept (abort removes nothing), the journal and
 * the temporaries stay, and the error says so, for `sluice recover` to finish once the cause
 * is gone.
 */
export async function commitTogether(sinks: readonly Sink[], check?: (written: Publish[]) => void): Promise<SinkResult[]> {
  const prepared: Prepared[] = [];
  for (const sink of sinks) prepared.push(await sink.prepare());
  check?.(prepared.map((p) => ({ rows: p.rows, temp: p.publication.temp, target: p.publication.target })));
  if (sinks.length === 1) return [await sinks[0].publish()];
  stopAt('before-journal');
  let journal: CommitJournal;
  try {
    journal = await CommitJournal.write(prepared.map((p) => p.publication));
  } catch (err) {
    // Not one rename yet: no copy of it can decide a commit that is aborted here.
    throw new SinkError(`cannot write the commit journal of ${targets(prepared)}; nothing was committed`, err);
  }
  stopAt('after-journal');
  const results: SinkResult[] = [];
  for (const [i, sink] of sinks.entries()) {
    if (i > 0) stopAt('between-renames');
    try {
      results.push(await sink.publish({ holdLock: true }));
    } catch (err) {
      if (prepared.every((p) => publicationState(p.publication) === 'pending')) {
        await journal.remove().catch(() => undefined);
        throw err;
      }
      for (const s of sinks) s.keep();
      const published = prepared.filter((p) => publicationState(p.publication) !== 'pending').map((p) => p.publication.target);
      throw new SinkError(
        `the commit of ${targets(prepared)} stopped half-way: ${published.join(', ')} ${published.length > 1 ? 'are' : 'is'} new, the others not yet. Its journal (${journal.copies.join(', ')}) and the new outputs are kept: once the cause below is fixed, \`sluice recover\` (or the next run on any of them) finishes the commit`,
        err,
      );
    }
  }
  stopAt('after-renames');
  // Every output is published: a copy that cannot be removed is harmless (the next run on its
  // target finds all published and only removes it), and failing the run now would say
  // "not committed" of outputs that are.
  await journal.remove().catch(() => undefined);
  for (const sink of sinks) sink.release();
  return results;
}

function targets(prepared: Prepared[]): string {
  return prepared.map((p) => p.publication.target).join(', ');
}
