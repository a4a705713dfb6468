/**
 * Pseudonymise PII (thread: CPU-bound per-row JS, spread over worker threads).
 * Replaces the configured columns by keyed pseudonyms (stable across runs for the same
 * salt, so joins still work) and drops the configured columns (e-mail addresses).
 */
import { createHmac, hash } from 'node:crypto';
import { Table, type Vector } from 'apache-arrow';
import { defineStage } from 'sluice';

interface Options {
  salt: string;
  /** Columns to replace by pseudonyms. */
  columns: string[];
  /** Columns to remove entirely. */
  drop: string[];
  /**
   * `hmac` (default): HMAC-SHA256 keyed by the salt, the right choice for pseudonyms.
   * `salted-sha256`: sha256(salt || value), what SQL engines can do too (used by the benchmarks).
   */
  algorithm?: 'hmac' | 'salted-sha256';
}

export default defineStage<Options>({
  // A misspelt column would match nothing and leave its values in clear: `validate` checks them.
  inputColumns: (o) => ({ columns: o.columns, drop: o.drop }),
  outputColumns: (input, o) => input.filter((c) => !(o.drop ?? []).includes(c)),
  // It reads only the columns it replaces (a dropped column need not be read, nor be there at all).
  reads: (o) => o.columns,
  // It loops over every field to pass the unlisted columns on untouched (or drop them).
  passesOnUnlisted: true,
  setup(ctx) {
    if (!ctx.options.salt) throw new Error('options.salt is required (a secret; keep it out of git in real pipelines)');
  },
  process(batch, ctx) {
    const { salt, columns, drop, algorithm = 'hmac' } = ctx.options;
    const pseudonym =
      algorithm === 'hmac'
        ? (v: string) => createHmac('sha256', salt).update(v).digest('hex')
        : (v: string) => hash('sha256', salt + v, 'hex'); // one-shot: ~4x cheaper than createHash
    const children: Record<string, Vector> = {};
    for (const field of batch.schema.fields) {
      if (drop.includes(field.name)) continue;
      children[field.name] = columns.includes(field.name)
        ? ctx.utf8(ctx.strings(batch, field.name).map((v) => (v === null ? null : pseudonym(v))))
        : batch.getChild(field.name)!;
    }
    return new Table(children);
  },
});
