/** A stage failure reported by a worker (protocol/errors.ts), rebuilt on the main side. */
import { deserializeError, SluiceError, StageError, type BatchLocation } from '../errors';
import type { WireError } from '../protocol/errors';

/**
 * The SluiceError the worker threw (a StageError naming stage, copy, phase and batch), as it
 * was; anything else it sent (it should not) becomes a StageError of `phase` at `location`.
 */
export function stageErrorOf(wire: WireError, location: BatchLocation, phase: StageError['phase']): SluiceError {
  const err = deserializeError(wire);
  return err instanceof SluiceError ? err : new StageError(location, phase, err);
}
