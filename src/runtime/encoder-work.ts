/** The Parquet encoder's share of a run, for the report: its work since the run began. */
import { encoderWork } from '../io/sinks';
import { round } from './metrics';
import type { EncoderWork } from './types';

export function encoderWorkSince(format: string): () => EncoderWork | undefined {
  const before = encoderWork();
  return () => {
    if (format !== 'parquet') return undefined;
    const now = encoderWork();
    return { threadsStarted: now.threadsStarted - before.threadsStarted, busyMs: round(now.busyMs - before.busyMs), slotWaitMs: round(now.slotWaitMs - before.slotWaitMs) };
  };
}
