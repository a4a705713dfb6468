/**
 * Which inline stage the main thread is running, carried through the stage's own timers,
 * callbacks and promises (AsyncLocalStorage follows async resources), so an error the stage
 * throws outside the promise the executor awaits, or a `process.exit()` it calls, can still
 * be blamed on that stage, copy and batch (runtime/guard.ts reads it).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { BatchLocation } from '../errors';

export interface InlineWork extends BatchLocation {
  phase: 'load' | 'setup' | 'process' | 'flush';
}

export const inlineWork = new AsyncLocalStorage<InlineWork>();
