/**
 * The standard text form of one primitive value, exact: ISO 8601 dates, times, timestamps,
 * durations and intervals at the full precision of their unit (computed from the integer,
 * never through a JavaScript Date, which holds milliseconds and years 0–9999 only), decimals
 * from their unscaled integer and scale, floats that read back as floats.
 */

/** Fraction digits of a time unit (Arrow's TimeUnit: SECOND, MILLISECOND, MICROSECOND, NANOSECOND). */
export const UNIT_DIGITS = [0, 3, 6, 9] as const;
const PER_SECOND = [1n, 1_000n, 1_000_000n, 1_000_000_000n] as const;

const pad = (n: number | bigint, width: number) => String(n).padStart(width, '0');

function floorDiv(a: bigint, b: bigint): [bigint, bigint] {
  const q = a / b;
  const r = a - q * b;
  return r < 0n ? [q - 1n, r + b] : [q, r];
}

/** ISO 8601 year: four digits for 0–9999, else a sign and at least four digits (expanded form). */
function isoYear(y: number): string {
  if (y < 0) return `-${pad(-y, 4)}`;
  return y > 9999 ? `+${y}` : pad(y, 4);
}

/** Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days). */
export function isoDate(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return `${isoYear(yoe + era * 400 + (m <= 2 ? 1 : 0))}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** `HH:MM:SS` plus the unit's fraction digits, from seconds-of-day and the fraction's integer. */
function clock(secondOfDay: bigint, fraction: bigint, unit: number): string {
  const s = Number(secondOfDay);
  const text = `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}`;
  return UNIT_DIGITS[unit] ? `${text}.${pad(fraction, UNIT_DIGITS[unit])}` : text;
}

/** `2026-11-24T10:11:12.123456Z`: every digit of the unit; `Z` when the type has a zone (the value is UTC). */
export function isoTimestamp(value: bigint, unit: number, zoned: boolean): string {
  const [seconds, fraction] = floorDiv(value, PER_SECOND[unit]);
  const [days, secondOfDay] = floorDiv(seconds, 86400n);
  return `${isoDate(Number(days))}T${clock(secondOfDay, fraction, unit)}${zoned ? 'Z' : ''}`;
}

/** A time of day (time32/time64) as `HH:MM:SS[.fraction]`. */
export function isoTime(value: bigint, unit: number): string {
  const [seconds, fraction] = floorDiv(value, PER_SECOND[unit]);
  return clock(seconds, fraction, unit);
}

/** Seconds with the unit's fraction digits, sign in front: `-1.500`. */
function seconds(value: bigint, unit: number): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const whole = abs / PER_SECOND[unit];
  const digits = UNIT_DIGITS[unit];
  return digits ? `${sign}${whole}.${pad(abs - whole * PER_SECOND[unit], digits)}` : `${sign}${whole}`;
}

/** A duration as ISO 8601 seconds: `PT90061.500000S`, negative `-PT1.500S`. */
export function isoDuration(value: bigint, unit: number): string {
  return value < 0n ? `-PT${seconds(-value, unit)}S` : `PT${seconds(value, unit)}S`;
}

/** An interval as ISO 8601 with a sign per component (Arrow's months, days and time are independent). */
export function isoInterval(months: number, days: number, nanos: bigint): string {
  return `P${months}M${days}DT${seconds(nanos, 3)}S`;
}

/** A decimal's exact text from its unscaled integer: `125`, scale 2 → `1.25`; scale -2 → `12500`. */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale <= 0) return String(unscaled * 10n ** BigInt(-scale));
  const sign = unscaled < 0n ? '-' : '';
  const digits = String(unscaled < 0n ? -unscaled : unscaled).padStart(scale + 1, '0');
  return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** A two's-complement integer from little-endian 32-bit words (Arrow's decimal layout). */
export function wordsToBigInt(words: Uint32Array, start: number, count: number): bigint {
  let v = 0n;
  for (let k = count - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[start + k]);
  const bits = BigInt(count * 32);
  return v >= 1n << (bits - 1n) ? v - (1n << bits) : v;
}

/**
 * A finite float as the shortest text that reads back to the same value, always with a point
 * or exponent (`1.0`, not `1`: a reader must not take a float column for integers); `-0.0`
 * keeps its sign. float32 values get their own shortest form (`0.1`, not `0.10000000149011612`).
 */
export function floatText(n: number, single: boolean): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  let text = String(n);
  if (single) {
    for (let p = 1; p <= 9; p++) {
      const candidate = String(Number(n.toPrecision(p)));
      if (Math.fround(Number(candidate)) === n) {
        text = candidate;
        break;
      }
    }
  }
  if (Object.is(n, -0)) return '-0.0';
  return /[.eE]/.test(text) ? text : `${text}.0`;
}
