/**
 * NDJSON's one schema per source: the first batch fixes it, and a later field it does not
 * have, at the top level or nested in an object (`a.b.c`, `items[].sku`), is an error:
 * polars would otherwise drop a nested one silently when casting to the fixed schema.
 */
import type { DataType } from 'nodejs-polars';

export interface Shape {
  variant?: string;
  fields?: { name: string; dtype: DataType }[];
  __inner?: DataType;
}

/** The first path present in `got` but not in `fixed` (field names joined by `.`, lists as `[]`). */
export function newFieldPath(fixed: DataType, got: DataType, path: string): string | undefined {
  const f = fixed as unknown as Shape;
  const g = got as unknown as Shape;
  if (g.variant === 'Struct' && f.variant === 'Struct') {
    for (const field of g.fields ?? []) {
      const known = f.fields?.find((k) => k.name === field.name);
      const sub = `${path}.${field.name}`;
      if (!known) return sub;
      const deeper = newFieldPath(known.dtype, field.dtype, sub);
      if (deeper) return deeper;
    }
  }
  if (g.variant === 'List' && f.variant === 'List' && g.__inner && f.__inner) return newFieldPath(f.__inner, g.__inner, `${path}[]`);
  return undefined;
}

/** Whether a parsed JSON value has `path` (as newFieldPath names it; the first segment is a top-level key). */
export function hasPath(value: unknown, path: string): boolean {
  const steps = path.match(/\[\]|[^.[\]]+/g) ?? [];
  const walk = (v: unknown, i: number): boolean => {
    if (i === steps.length) return true;
    if (steps[i] === '[]') return Array.isArray(v) && v.some((x) => walk(x, i + 1));
    return v !== null && typeof v === 'object' && !Array.isArray(v) && steps[i] in v && walk((v as Record<string, unknown>)[steps[i]], i + 1);
  };
  return walk(value, 0);
}
