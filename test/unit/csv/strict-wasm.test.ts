/**
 * csv/strict-wasm.ts (wasm/text-check.c) against the JavaScript reference scan (strict-scan.ts):
 * on every chunk, the same answer, accepted or refused, and when refused the same error (its
 * message names the file, the physical line, the column and the value: the first bad one).
 * A matrix of values × rules × how the field is written, then random chunks (fixed seed):
 * well-formed CSV with awkward values, and byte soup that is not CSV at all. The WebAssembly
 * scan sees a chunk a window at a time: the random chunks again through windows of a few
 * bytes (an edge inside every kind of field), and what the window bounds (memory, calls).
 */
import { rng } from '../../../scripts/rng';
import { checkChunkText, textCheck, type TextCheck, type TextRule } from '../../../src/csv/strict';
import { scanWasm, wasmScanAvailable, wasmScanMemoryBytes, WINDOW } from '../../../src/csv/strict-wasm';
import { Judge } from '../../../src/csv/strict-judge';
import { datetimeShape, type CsvType } from '../../../src/csv/infer';

/** What a scan says of a chunk: undefined (accepted) or its error's message. */
function verdict(scan: 'js' | 'wasm', text: Buffer, prefixLength: number, check: TextCheck, sep: string, quote: string, skippedLines?: number[]): string | undefined {
  try {
    checkChunkText({ text, prefixLength, firstLine: 7, ...(skippedLines && { skippedLines }) }, check, 'f.csv', sep, quote, scan);
    return undefined;
  } catch (err) {
    if (scan === 'wasm' && !(err as Error).message.startsWith('f.csv')) throw err; // not a verdict: the scan could not run
    return (err as Error).message;
  }
}

/** Both scans' verdicts on the chunk (the JavaScript one first). */
function both(text: Buffer, prefixLength: number, check: TextCheck, sep = ',', quote = '"', skippedLines?: number[]): [string | undefined, string | undefined] {
  return [verdict('js', text, prefixLength, check, sep, quote, skippedLines), verdict('wasm', text, prefixLength, check, sep, quote, skippedLines)];
}

const inferred = (type: CsvType, sample?: string, extra: Partial<TextRule> = {}): TextRule => ({
  type,
  origin: 'inferred',
  ...(sample !== undefined && { shape: datetimeShape(sample) }),
  ...extra,
});
const declared = (type: CsvType): TextRule => ({ type, origin: 'declared' });

const RULES: TextRule[] = [
  inferred('int64'),
  inferred('float64'),
  inferred('float64', undefined, { nonFinite: true }),
  inferred('date', '2026-01-01'),
  inferred('datetime', '2026-01-01 10:00:00'),
  inferred('datetime', '2026-01-01T10:00:00.123'),
  inferred('datetime[us]', '2026-01-01T10:00:00.123456'),
  inferred('datetime[ns]', '2026-01-01T10:00:00.123456789'),
  inferred('datetime[ms, UTC]', '2026-01-01T10:00:00.123Z'),
  inferred('datetime[us, UTC]', '2026-01-01T10:00:00.123456+02:00'),
  inferred('time', '10:00:00'),
  declared('float64'),
  declared('float32'),
  declared('timestamp'),
  declared('datetime[us]'),
  declared('datetime[ns, UTC]'),
];

const VALUES = [
  '', '0', '-0', '7', '-7', '01', '+1', ' 1', '1 ', '-', '123456789012345678', '1234567890123456789', '9223372036854775807', '9223372036854775808',
  '1.5', '-1.5', '1.', '.5', '01.5', '0.5', '00', '1e3', '1E-3', '1e500', '1e-400', '0.1', '123456789012345.6', '12345678901234.5', '9007199254740993',
  'NaN', 'inf', '-inf', 'nan', 'Infinity', 'true', 'NA', 'abc', '12a', '1-2',
  '2026-01-01', '2026-1-01', '+10000-01-01', '2026-01-01 10:00:00', '2026-01-01T10:00:00', '2026-01-01T10:00:00.123', '2026-01-01T10:00:00.1234',
  '2026-01-01T10:00:00.123456', '2026-01-01T10:00:00.123456789', '2300-01-01T10:00:00.123456789', '1677-01-01T10:00:00.123456789', '2026-01-01T10:00:00.123Z',
  '2026-01-01T10:00:00.123+02:00', '2026-01-01T10:00:00.123-02:00', '2026-01-01T10:00:00.123+0200', '2026-01-01T10:00:00.123ZZ', '2026-01-01T10:00:00.123456Z',
  '2026-01-01T10:00:00.123456+02:00', '2026-01-01T10:00:00.123456789+01:00', '2026-01-01 10:00:00.123', '10:00:00', '10:00:00.5', 'x'.repeat(70), '1'.repeat(70),
];

/** How a value is written in its field. */
const WRITINGS: [string, (v: string) => string][] = [
  ['plain', (v) => v],
  ['quoted', (v) => `"${v}"`],
  ['quoted, with a doubled quote', (v) => `"${v}"""`],
  ['before a CR LF', (v) => v],
];

const available = wasmScanAvailable();
if (!available) throw new Error('WebAssembly SIMD is not available here: the WebAssembly text check cannot be tested');

describe.each(RULES.map((r) => [`${r.origin} ${r.type}${r.shape ? ` (${r.shape})` : ''}${r.nonFinite ? ' with NaN' : ''}`, r] as const))('%s', (_, rule) => {
  it.each(WRITINGS)('every value, %s: the same verdict from both scans', (how, write) => {
    // Columns: a (text), b (checked), c (text with a multi-line quoted value), d (checked like b), e (text).
    const check = textCheck(['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'c', 'd', 'e'], { b: rule, d: rule }, 'the first 3 rows of w.csv (lines 2–4)', ['NA'])!;
    const end = how === 'before a CR LF' ? '\r\n' : '\n';
    let refused = 0;
    for (const value of VALUES) {
      // Rows around it hold nulls in the checked columns (they pass every rule).
      for (const row of [`x,${write(value)},y,,z`, `"q,1",,"multi\nline",${write(value)},z`, `x,${write(value)},"a""b",${write(value)},"e\n"`]) {
        const header = 'c0,c1,c2,c3,c4\n';
        const text = Buffer.from(header + 'x,,y,,z' + end + row + end + 'x,,"y\n",,z' + end);
        const [js, wasm] = both(text, header.length, check);
        expect({ row, wasm }).toEqual({ row, wasm: js });
        if (js) refused++;
      }
    }
    if (how === 'plain') expect(refused).toBeGreaterThan(0); // each rule refuses some of the values: refusals are compared too
  });
});

it('a declared datetime: the chunk shape its first value fixes holds for the rest (also across the quick look)', () => {
  const check = textCheck(['a'], ['a'], { a: declared('timestamp') }, 'w')!;
  for (const rows of [
    ['2026-01-01 10:00:00', '2026-01-02 10:00:00', '2026-01-02T10:00:00'],
    ['"2026-01-01 10:00:00"', '2026-01-02 10:00:00', '2026-01-03 10:00:00'],
    ['', '2026-01-01T10:00:00', '2026-01-02 10:00:00'],
    ['2026-01-01 10:00:00', 'bad', '2026-01-02 10:00:00'],
  ]) {
    const text = Buffer.from('c0\n' + rows.join('\n') + '\n');
    const [js, wasm] = both(text, 3, check);
    expect(wasm).toEqual(js);
  }
});

it('blank lines removed before the scan (skippedLines) count in both', () => {
  const check = textCheck(['a', 'b'], ['a', 'b'], { b: inferred('int64') }, 'w')!;
  const text = Buffer.from('c0,c1\nx,1\nx,2\nx,03\n');
  const [js, wasm] = both(text, 6, check, ',', '"', [8, 9]);
  expect(js).toContain('line 11');
  expect(wasm).toEqual(js);
});

it('other delimiters and quotes; a non-ASCII delimiter leaves the check to the JavaScript scan', () => {
  const check = textCheck(['a', 'b', 'c'], ['a', 'b', 'c'], { b: inferred('float64'), c: inferred('int64') }, 'w')!;
  for (const [sep, quote] of [[';', '"'], ['\t', "'"], ['|', '"'], [',', "'"]]) {
    for (const bad of ['1.5', '+1.5', `${quote}2.5${quote}`, `${quote}1${sep}5${quote}`]) {
      const text = Buffer.from(['c0', 'c1', 'c2'].join(sep) + '\n' + [`${quote}a${sep}b${quote}`, bad, '7'].join(sep) + '\n' + ['x', '1', '01'].join(sep) + '\n');
      const [js, wasm] = both(text, 9, check, sep, quote);
      expect(wasm).toEqual(js);
      expect(js).toBeDefined(); // 01 in c, at least
    }
  }
  const prefix = 'c0§c1§c2\n';
  const text = Buffer.from(prefix + 'x§1.5§01\n');
  const chunk = { text, prefixLength: Buffer.byteLength(prefix), firstLine: 7 };
  expect(() => checkChunkText(chunk, check, 'f.csv', '§', '"', 'wasm')).toThrow('cannot run here');
  expect(() => checkChunkText(chunk, check, 'f.csv', '§', '"')).toThrow(verdict('js', text, chunk.prefixLength, check, '§', '"'));
});

/** A random value for a checked column: mostly well-formed, some off by one byte. */
function randomValue(r: () => number, rule: TextRule): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
  const good: Record<string, () => string> = {
    int64: () => pick(['', '-']) + String(1 + Math.floor(r() * 1e9)),
    float64: () => pick(['', '-']) + String(Math.floor(r() * 1e6)) + pick(['', '.' + digits(1 + Math.floor(r() * 8))]),
    float32: () => String(Math.floor(r() * 1e6)) + '.' + digits(2),
  };
  const base = good[rule.type]?.() ?? (rule.shape ?? '9999-99-99 99:99:99').replace(/9/g, () => String(Math.floor(r() * 10))).replace(/Z$/, () => pick(['Z', '+01:00', '-11:30']));
  const roll = r();
  if (roll < 0.8) return base;
  if (roll < 0.85) return pick(VALUES);
  const at = Math.floor(r() * (base.length + 1));
  const insert = pick(['0', '+', ' ', 'e', '.', 'x', 'T', ' ', ':', '-', '9', 'Z', '"', '""', '\r']);
  return roll < 0.95 ? base.slice(0, at) + insert + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
}

/** A random text value for an unchecked column: quoted or not, with delimiters, quotes and lines inside quotes. */
function randomText(r: () => number, sep: string, quote: string): string {
  const len = Math.floor(r() * (r() < 0.1 ? 150 : 20));
  let s = '';
  for (let i = 0; i < len; i++) s += r() < 0.1 ? [sep, quote, '\n', '\r'][Math.floor(r() * 4)] : String.fromCharCode(97 + Math.floor(r() * 26));
  if (r() < 0.5 || /[\n\r]/.test(s) || s.includes(sep) || s.includes(quote)) return quote + s.split(quote).join(quote + quote) + quote;
  return s;
}

/** A chunk to scan and how its file is written. */
interface Case {
  text: Buffer;
  prefixLength: number;
  check: TextCheck;
  sep: string;
  quote: string;
}

/** Random well-formed chunks: delimiters and quotes of three kinds, checked and text columns, awkward values. */
function* wellFormedChunks(seed: number, count: number): Generator<Case> {
  const r = rng(seed);
  for (let chunk = 0; chunk < count; chunk++) {
    const [sep, quote] = [[',', '"'], [';', "'"], ['\t', '"']][chunk % 3];
    const width = 1 + Math.floor(r() * 8);
    const names = Array.from({ length: width }, (_, i) => `n${i}`);
    const rules: Record<string, TextRule> = {};
    for (const name of names) if (r() < 0.5) rules[name] = RULES[Math.floor(r() * RULES.length)];
    const check = textCheck(names, names, rules, 'w', r() < 0.3 ? ['NA', 'null'] : []);
    if (!check) continue;
    const header = names.join(sep) + '\n';
    const rows: string[] = [];
    for (let row = 0; row < 1 + Math.floor(r() * 40); row++) {
      const cells = names.map((n) => {
        if (!rules[n]) return randomText(r, sep, quote);
        const v = r() < 0.01 ? 'NA' : randomValue(r, rules[n]);
        return r() < 0.05 || v.includes(quote) || v.includes(sep) || v.includes('\n') ? quote + v.split(quote).join(quote + quote) + quote : v;
      });
      rows.push(cells.join(sep) + (r() < 0.1 ? '\r\n' : '\n'));
    }
    const body = rows.join('');
    yield { text: Buffer.from(header + (r() < 0.2 ? body.replace(/\r?\n$/, '') : body)), prefixLength: header.length, check, sep, quote };
  }
}

/** Random bytes of CSV's alphabet that are not CSV at all. */
function* byteSoup(seed: number, count: number): Generator<Case> {
  const r = rng(seed);
  const alphabet = Buffer.from('0123456789-+.eE:TZ ,"\n\r;x');
  for (let chunk = 0; chunk < count; chunk++) {
    const len = Math.floor(r() * 300);
    const bytes = Buffer.alloc(len);
    for (let i = 0; i < len; i++) bytes[i] = alphabet[Math.floor(r() * alphabet.length)];
    const names = ['a', 'b', 'c', 'd'];
    const rules: Record<string, TextRule> = {};
    for (const name of names) if (r() < 0.6) rules[name] = RULES[Math.floor(r() * RULES.length)];
    const check = textCheck(names, names, rules, 'w');
    if (!check) continue;
    const prefix = 'c0,c1,c2,c3\n';
    yield { text: Buffer.concat([Buffer.from(prefix), bytes]), prefixLength: prefix.length, check, sep: ',', quote: '"' };
  }
}

it('random well-formed chunks (seed 23): the same verdict', () => {
  let refused = 0;
  let chunk = 0;
  for (const { text, prefixLength, check, sep, quote } of wellFormedChunks(23, 400)) {
    const [js, wasm] = both(text, prefixLength, check, sep, quote);
    expect({ chunk, text: text.toString(), wasm }).toEqual({ chunk, text: text.toString(), wasm: js });
    if (js) refused++;
    chunk++;
  }
  expect(refused).toBeGreaterThan(50); // the inputs exercise refusals, not only acceptance
});

it('random byte soup (seed 2323): the same verdict, whatever the bytes', () => {
  let chunk = 0;
  for (const { text, prefixLength, check } of byteSoup(2323, 600)) {
    const [js, wasm] = both(text, prefixLength, check);
    expect({ chunk, text: text.toString(), wasm }).toEqual({ chunk, text: text.toString(), wasm: js });
    chunk++;
  }
});

/** The WebAssembly scan's verdict through windows of `window` bytes, and how many windows it took. */
function windowed(c: Pick<Case, 'text' | 'prefixLength' | 'check'> & Partial<Case>, window: number): { verdict: string | undefined; windows: number } {
  let windows = 0;
  try {
    windows = scanWasm({ text: c.text, prefixLength: c.prefixLength, firstLine: 7 }, new Judge(c.check, 'f.csv', undefined), c.sep ?? ',', c.quote ?? '"', window);
    return { verdict: undefined, windows };
  } catch (err) {
    return { verdict: (err as Error).message, windows };
  }
}

it('the random chunks through windows of 1 to 200 bytes (an edge inside every kind of field): the reference scan’s verdict', () => {
  const cases = [...wellFormedChunks(23, 400), ...byteSoup(2323, 600)];
  let refused = 0;
  cases.forEach((c, n) => {
    const js = verdict('js', c.text, c.prefixLength, c.check, c.sep, c.quote);
    if (js) refused++;
    for (const window of [1, 2, 3, 5, 16, 63, 64, 65, 200]) {
      expect({ n, window, text: c.text.toString(), wasm: windowed(c, window).verdict }).toEqual({ n, window, text: c.text.toString(), wasm: js });
    }
  });
  expect(refused).toBeGreaterThan(100);
});

it('a chunk is scanned a window at a time: the module holds a window, not the chunk (a plain conversion’s chunk is 26 MB)', () => {
  const check = textCheck(['a', 'b', 'c'], ['a', 'b', 'c'], { a: inferred('int64'), c: inferred('float64') }, 'w')!;
  const header = 'c0,c1,c2\n';
  const rows = Array.from({ length: 200_000 }, (_, i) => `${i},"x,${i}",${i}.5\n`).join('');
  const text = Buffer.from(header + rows);
  expect(text.length).toBeGreaterThan(32 * WINDOW);
  const { verdict: v, windows } = windowed({ text, prefixLength: header.length, check }, WINDOW);
  expect(v).toBeUndefined();
  expect(windows).toBeGreaterThanOrEqual(Math.ceil((text.length - header.length) / WINDOW));
  expect(wasmScanMemoryBytes()).toBeLessThan(4 * WINDOW + 256 * 1024);
  // The same rows with a bad value in the last one: found, at its line, across all those windows.
  const bad = Buffer.from(header + rows + '5,x,05\n');
  expect(windowed({ text: bad, prefixLength: header.length, check }, WINDOW).verdict).toEqual(verdict('js', bad, header.length, check, ',', '"'));
});

it('a field longer than the window (a quoted value over many lines): a window large enough for it, the same verdict', () => {
  const check = textCheck(['a', 'b', 'c'], ['a', 'b', 'c'], { a: inferred('int64'), b: inferred('float64') }, 'w')!;
  const header = 'c0,c1,c2\n';
  const long = '"' + 'line, with ""quotes""\n'.repeat(Math.ceil((3 * WINDOW) / 22)) + '"';
  for (const rows of [`1,1.5,${long}\n2,2.5,x\n3,03,x\n`, `1,"${'1'.repeat(3 * WINDOW)}",x\n`, `1,1.5,${long}\n`.repeat(3) + '4,+4,x\n']) {
    const text = Buffer.from(header + rows);
    const js = verdict('js', text, header.length, check, ',', '"');
    expect(js).toBeDefined();
    expect(windowed({ text, prefixLength: header.length, check }, WINDOW).verdict).toEqual(js);
  }
});

it('a chunk in shared memory at any offset (an encoder’s slot): the same verdict', () => {
  const check = textCheck(['a', 'b'], ['a', 'b'], { b: inferred('datetime', '2026-01-01T10:00:00.123') }, 'w')!;
  const plain = Buffer.from('c0,c1\n' + 'x,2026-01-01T10:00:00.123\n'.repeat(20_000) + 'x,2026-01-01 10:00:00.123\n');
  const js = verdict('js', plain, 6, check, ',', '"');
  expect(js).toContain('line 20007');
  for (let offset = 0; offset < 16; offset++) {
    const shared = Buffer.from(new SharedArrayBuffer(plain.length + 16), offset, plain.length);
    plain.copy(shared);
    expect({ offset, wasm: verdict('wasm', shared, 6, check, ',', '"') }).toEqual({ offset, wasm: js });
  }
});

it('values across the scan’s 64-byte windows and at the very end of the text: the same verdict', () => {
  const check = textCheck(['a', 'b'], ['a', 'b'], { b: inferred('datetime', '2026-01-01T10:00:00.123') }, 'w')!;
  for (let pad = 0; pad < 80; pad++) {
    for (const value of ['2026-01-01T10:00:00.123', '2026-01-01T10:00:00.1234', '2026-01-01 10:00:00.123']) {
      for (const end of ['', '\n', '\r\n', '\r']) {
        const text = Buffer.from('c0,c1\n' + 'x'.repeat(pad) + ',' + value + end);
        const [js, wasm] = both(text, 6, check);
        expect({ pad, value, end, wasm }).toEqual({ pad, value, end, wasm: js });
      }
    }
  }
});
