/** A host's output on the main thread as an OwnedBatch (inline stages, and combine for every mode). */
import { OwnedBatch } from '../batch/owned';
import { leaseSlabsOf } from '../batch/shared';
import type { HostOutput } from '../worker/host';

/**
 * One lease on every slab the output lies in: slabs it borrows from the input (pass-through
 * columns, which the input's lease stops holding once the stage returns; partials a combine
 * passes on) and slabs a returned DataFrame was converted into (whose birth hold is then given up).
 */
export function held(out: HostOutput, seq: number, sourceFile?: string): OwnedBatch {
  const lease = leaseSlabsOf(out.batches);
  out.born.release();
  return new OwnedBatch({ seq, sourceFile, batches: out.batches, lease, backing: out.backing, ...(out.rejected && { rejected: out.rejected }) });
}
