/**
 * CPU-bound in plain JavaScript: `rounds` rounds of a 2×32-bit FNV-1a over a string column,
 * each round's hex digest hashed again (strings in, strings out, like sha.ts, without
 * node:crypto), to tell the engine's scaling from node:crypto's.
 */
import { fnvHex } from './fnv';
import { roundsStage } from './rounds';

export default roundsStage((h, v) => fnvHex(h + v));
