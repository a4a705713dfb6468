/** Counting polars' native calls that list, look up or rename columns: a structural measure of work that must not grow with a frame's width. */
import pl from 'nodejs-polars';

/** Native calls that list, look up or rename columns, made while `fn` runs (each lists every column). */
export function countNative(fn: () => Promise<void> | void): Promise<number> | number {
  // inner(): the native frame (not in the typings); its class holds the native methods.
  const proto = Object.getPrototypeOf((pl.DataFrame({ a: [1] }) as unknown as { inner(): object }).inner()) as Record<string, unknown>;
  let calls = 0;
  const saved = ['columns', 'dtypes', 'rename', 'getColumns', 'column'].map((name) => [name, Object.getOwnPropertyDescriptor(proto, name)!] as const);
  for (const [name, d] of saved) {
    if (d.get) Object.defineProperty(proto, name, { ...d, get(this: unknown) { calls++; return d.get!.call(this); } });
    else Object.defineProperty(proto, name, { ...d, value(this: unknown, ...a: unknown[]) { calls++; return (d.value as (...a: unknown[]) => unknown).apply(this, a); } });
  }
  const restore = () => saved.forEach(([name, d]) => Object.defineProperty(proto, name, d));
  let result: Promise<void> | void;
  try {
    result = fn();
  } catch (err) {
    restore();
    throw err;
  }
  if (result instanceof Promise) return result.then(() => calls).finally(restore);
  restore();
  return calls;
}
