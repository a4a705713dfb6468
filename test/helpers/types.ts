/**
 * Compile-time assertions, checked by `tsc --noEmit` (part of `npm test`): a test file that
 * uses them does not compile when they fail. The `Equal` idiom compares types for identity,
 * not mere assignability (`{ a?: 1 }` is not `{}`; `any` equals nothing but `any`).
 */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** `assertType<Equal<A, B>>()` fails to compile unless the two are the same type. */
export function assertType<T extends true>(): T | void {}
