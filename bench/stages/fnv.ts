/**
 * A 2×32-bit FNV-1a of a string as 16 hex digits: the CPU-bound plain-JavaScript work of
 * the benchmarks, shared by the stage (js-hash.ts) and the bare threads without sluice
 * (../bare-hash.js), so both do exactly the same work.
 */
export function fnvHex(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 2246822519);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
