/**
 * CPU-bound in plain JavaScript: `rounds` rounds of a 2×32-bit FNV-1a over a string column,
 * each round's hex digest hashed again (strings in, strings out, like sha.ts, without
 * node:crypto), to tell the engine's scaling from node:crypto's.
 */
import { roundsStage } from './rounds';

function fnvHex(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 2246822519);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

export default roundsStage((h, v) => fnvHex(h + v));
