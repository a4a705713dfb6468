/**
 * A row's values as JSON text that changes none of them: a 64-bit integer is a JSON number
 * when a double holds it exactly, else its digits as a string (a number there would be read
 * back rounded). What the dead-letter output's `values` column holds (runtime/rejects.ts), made
 * on the main thread or in a stage's copy (worker/reject-rows.ts) alike.
 */
export function rowJson(values: Record<string, unknown>): string {
  return JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? (v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString()) : v));
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
