/**
 * The CPU-bound benchmark stages' shape: a string column replaced by `rounds` rounds of a
 * hash step per value (strings in, strings out), so two stages differ only in the step.
 */
import { Table } from 'apache-arrow';
import { defineStage } from 'sluice';

export function roundsStage(step: (previous: string, value: string) => string) {
  return defineStage<{ column: string; rounds?: number }>({
    process(batch, ctx) {
      const rounds = ctx.options.rounds ?? 1;
      const hashes = ctx.strings(batch, ctx.options.column).map((v) => {
        if (v === null) return null;
        let h = v;
        for (let r = 0; r < rounds; r++) h = step(h, v);
        return h;
      });
      return new Table({ hash: ctx.utf8(hashes) });
    },
  });
}
