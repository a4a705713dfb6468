/**
 * `expect(batches).toEqualBatch(expected)`: a jest matcher over diffBatches (the shape of
 * apache-arrow's own test/jest-extensions.ts `toEqualTable`). `sluice/testing` registers it
 * when a global `expect` exists; other runners call `expect.extend({ toEqualBatch })`.
 */
import type { Row } from './build';
import { diffBatches, type DiffOptions } from './diff';
import { isBatchesLike, type BatchesLike } from './values';

interface MatcherContext {
  isNot: boolean;
  utils?: { matcherHint?(name: string, received?: string, expected?: string, options?: { isNot?: boolean }): string };
}

export function toEqualBatch(this: MatcherContext, received: unknown, expected: BatchesLike | readonly Row[], opts?: DiffOptions) {
  const hint = this.utils?.matcherHint?.('toEqualBatch', undefined, undefined, { isNot: this.isNot }) ?? 'expect(received).toEqualBatch(expected)';
  if (!isBatchesLike(received) && !(Array.isArray(received) && received.length === 0)) {
    return { pass: false, message: () => `${hint}\n\nreceived must be a RecordBatch, an array of them, a Table or a stage run's result (got ${describe(received)})` };
  }
  const diff = diffBatches(received as BatchesLike, expected, opts);
  return {
    pass: diff === undefined,
    message: () => (diff === undefined ? `${hint}\n\nexpected the batches to differ, but they are equal` : `${hint}\n\n${diff}`),
  };
}

function describe(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  return (v as object).constructor?.name ?? 'object';
}

/** Registers the matcher with the runner's global `expect`, if there is one (jest, vitest with globals). */
export function registerMatchers(): void {
  const expect = (globalThis as { expect?: { extend?(matchers: Record<string, unknown>): void } }).expect;
  expect?.extend?.({ toEqualBatch });
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- jest's matcher types are declared in this namespace
  namespace jest {
    interface Matchers<R> {
      /** Same schema (names, order, Arrow types) and rows; with rows as `expected`, same columns and values. */
      toEqualBatch(expected: BatchesLike | readonly Row[], options?: DiffOptions): R;
    }
  }
}
