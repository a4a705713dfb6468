/** CPU-bound: sha256 hex of a string column, per row. */
import { hash } from 'node:crypto';
import { Table } from 'apache-arrow';
import { defineStage } from 'sluice';

export default defineStage<{ column: string; rounds?: number }>({
  process(batch, ctx) {
    const rounds = ctx.options.rounds ?? 1;
    const hashes = ctx.strings(batch, ctx.options.column).map((v) => {
      if (v === null) return null;
      let h = v;
      for (let r = 0; r < rounds; r++) h = hash('sha256', h, 'hex');
      return h;
    });
    return new Table({ hash: ctx.utf8(hashes) });
  },
});
