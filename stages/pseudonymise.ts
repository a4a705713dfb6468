/**
 * Pseudonymise PII (thread: CPU-bound per-row JS, spread over worker threads).
 * Replaces `customer_id` by a keyed HMAC-SHA256 pseudonym (stable across runs for the
 * same salt, so joins still work) and drops the e-mail address.
 */
import { createHmac } from 'node:crypto';
import { Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { defineStage } from 'sluice';

interface Options {
  salt: string;
  /** Columns to replace by pseudonyms. */
  columns: string[];
  /** Columns to remove entirely. */
  drop: string[];
}

export default defineStage<Options>({
  setup(ctx) {
    if (!ctx.options.salt) throw new Error('options.salt is required (a secret; keep it out of git in real pipelines)');
  },
  process(batch, ctx) {
    const { salt, columns, drop } = ctx.options;
    const children: Record<string, Vector> = {};
    for (const field of batch.schema.fields) {
      if (drop.includes(field.name)) continue;
      if (!columns.includes(field.name)) {
        children[field.name] = batch.getChild(field.name)!;
        continue;
      }
      const values = ctx.strings(batch, field.name).map((v) =>
        v === null ? null : createHmac('sha256', salt).update(v).digest('hex').slice(0, 24),
      );
      children[field.name] = vectorFromArray(values, new Utf8());
    }
    return new Table(children);
  },
});
