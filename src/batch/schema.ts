/** Schema equality by names and types, and a readable rendering for error messages. */
import type { Schema } from 'apache-arrow';

export function sameSchema(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i].name && String(f.type) === String(b.fields[i].type));
}

export function describeSchema(schema: Schema): string {
  return `(${schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ')})`;
}
