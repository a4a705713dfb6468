/**
 * The SIMD row scanner agrees with the JavaScript one (the reference) on random CSV: the
 * same chunks, rows and line numbers, and the same errors, wherever the reads are cut.
 */
import { RowChunker, type RowChunk } from '../../../../src/io/sources/csv/chunker';
import { SimdRowScanner } from '../../../../src/io/sources/csv/simd-scan';
// Deterministic random numbers, so a failure can be replayed.
import { rng } from '../../../../scripts/rng';

const FIELD_PIECES = ['a', 'bc', 'é', '12', ' ', ',', '""', '\n', '\r\n', '€x', ''];

/** Rows of `fields` fields, some quoted (with delimiters, quotes and newlines inside), blank lines, CRLF. */
function randomCsv(r: () => number, rows: number, fields: number, ragged: boolean): string {
  const out: string[] = [];
  const forced = ragged ? Math.floor(r() * rows) : -1; // at least one ragged row
  for (let i = 0; i < rows; i++) {
    if (i !== forced && r() < 0.05) {
      out.push(r() < 0.5 ? '\n' : '\r\n'); // blank line
      continue;
    }
    const n = i === forced || (ragged && r() < 0.02) ? fields + (fields === 1 || r() < 0.5 ? 1 : -1) : fields;
    const cells: string[] = [];
    for (let f = 0; f < Math.max(1, n); f++) {
      if (r() < 0.3) {
        let inner = '';
        for (let k = Math.floor(r() * 4); k > 0; k--) inner += FIELD_PIECES[Math.floor(r() * FIELD_PIECES.length)];
        cells.push(`"${inner}"`);
      } else {
        cells.push(['x', 'yy', '123', 'zz z', 'ü', ''][Math.floor(r() * 6)]);
      }
    }
    out.push(cells.join(',') + (r() < 0.2 ? '\r\n' : '\n'));
  }
  return out.join('');
}

function chunk(csv: Buffer, opts: { simd: boolean; rowsPerChunk: number; fields: number; cuts: number[]; maxRowBytes?: number }) {
  const chunker = new RowChunker({ file: 'x.csv', rowsPerChunk: opts.rowsPerChunk, fields: opts.fields, delimiter: 44, quote: 34, firstLine: 2, prefix: Buffer.from('h\n'), simd: opts.simd, maxRowBytes: opts.maxRowBytes });
  const out: { text: string; rows: number; firstLine: number; skipped?: number[] }[] = [];
  const keep = (c: RowChunk) => out.push({ text: c.text.toString('latin1'), rows: c.rows, firstLine: c.firstLine, skipped: c.skippedLines });
  try {
    let at = 0;
    for (const cut of [...opts.cuts, csv.length]) {
      for (const c of chunker.push(csv.subarray(at, cut))) keep(c);
      at = cut;
    }
    const last = chunker.end();
    if (last) keep(last);
    return { out };
  } catch (err) {
    return { out, error: (err as Error).message };
  }
}

it('the SIMD scanner is available here', () => {
  expect(SimdRowScanner.create({ delimiter: 44, quote: 34, fields: 3 })).toBeDefined();
});

it.each(Array.from({ length: 40 }, (_, i) => i))('SIMD and JavaScript scans agree on random CSV #%i', (seed) => {
  const r = rng(seed + 1);
  const fields = 1 + Math.floor(r() * 5);
  const csv = Buffer.from(randomCsv(r, 50 + Math.floor(r() * 400), fields, seed % 3 === 0) + (seed % 7 === 0 ? '"open' : ''));
  const cuts: number[] = [];
  for (let at = 0; ; ) {
    at += 1 + Math.floor(r() * (seed % 2 ? 7 : 300));
    if (at >= csv.length) break;
    cuts.push(at);
  }
  const rowsPerChunk = 1 + Math.floor(r() * 40);
  const js = chunk(csv, { simd: false, rowsPerChunk, fields, cuts });
  const simd = chunk(csv, { simd: true, rowsPerChunk, fields, cuts });
  expect(simd).toEqual(js);
  if (seed % 7 === 0 && seed % 3 !== 0) expect(js.error).toMatch(/unterminated quoted field/);
  if (seed % 3 === 0) expect(js.error).toMatch(/ragged row/);
});

it.each(Array.from({ length: 30 }, (_, i) => i))('SIMD and JavaScript agree on stray quotes and long rows, random CSV #%i', (seed) => {
  const r = rng(seed + 1000);
  const fields = 1 + Math.floor(r() * 5);
  let text = randomCsv(r, 50 + Math.floor(r() * 300), fields, false);
  if (seed % 2 === 0) {
    // a quote inside an unquoted field somewhere after the first row
    const at = text.indexOf('\nx', Math.floor(r() * text.length));
    if (at >= 0) text = text.slice(0, at + 2) + '"' + text.slice(at + 2);
  }
  const csv = Buffer.from(text);
  const cuts: number[] = [];
  for (let at = 0; ; ) {
    at += 1 + Math.floor(r() * (seed % 3 ? 9 : 200));
    if (at >= csv.length) break;
    cuts.push(at);
  }
  const opts = { rowsPerChunk: 1 + Math.floor(r() * 40), fields, cuts, maxRowBytes: seed % 4 === 1 ? 8 + Math.floor(r() * 20) : undefined };
  const js = chunk(csv, { simd: false, ...opts });
  expect(chunk(csv, { simd: true, ...opts })).toEqual(js);
});

it('finds a ragged row after many clean blocks, with its line', () => {
  const rows = Array.from({ length: 5000 }, (_, i) => `${i},"q,${i}\nx",${i}`);
  rows[4321] = '4321,too,many,fields';
  const csv = Buffer.from(rows.join('\n') + '\n');
  const simd = chunk(csv, { simd: true, rowsPerChunk: 1000, fields: 3, cuts: [] });
  expect(simd.error).toBe(`x.csv, line ${2 + 4321 * 2}: expected 3 fields, found 4 (ragged row)`);
  expect(simd).toEqual(chunk(csv, { simd: false, rowsPerChunk: 1000, fields: 3, cuts: [] }));
});

describe('wide rows: a chunk that reaches maxChunkBytes ends at the next row end', () => {
  // 200 rows of ~1 KB (a quoted field with a newline inside), pushed 4 KiB at a time.
  const row = (i: number) => `${i},"${'w'.repeat(500)}\n${'v'.repeat(500)}"\n`;
  const csv = Buffer.from(Array.from({ length: 200 }, (_, i) => row(i)).join(''));
  const cuts = Array.from({ length: Math.floor(csv.length / 4096) }, (_, i) => (i + 1) * 4096);

  function chunks(simd: boolean, minRows?: number) {
    const chunker = new RowChunker({ file: 'x.csv', rowsPerChunk: 100, fields: 2, delimiter: 44, quote: 34, firstLine: 2, prefix: Buffer.from('a,b\n'), simd, maxChunkBytes: 16 * 1024, minRows });
    const out: { rows: number; bytes: number; firstLine: number; text: string }[] = [];
    let at = 0;
    for (const cut of [...cuts, csv.length]) {
      for (const c of chunker.push(csv.subarray(at, cut))) out.push({ rows: c.rows, bytes: c.bytes.length, firstLine: c.firstLine, text: c.bytes.toString() });
      at = cut;
    }
    const last = chunker.end();
    if (last) out.push({ rows: last.rows, bytes: last.bytes.length, firstLine: last.firstLine, text: last.bytes.toString() });
    return out;
  }

  it.each([true, false])('simd %s: short chunks of whole rows, at most one pushed block past the cap, nothing lost', (simd) => {
    const out = chunks(simd);
    expect(out.length).toBeGreaterThan(200 / 100); // cut by bytes, not rows
    for (const c of out.slice(0, -1)) expect(c.bytes).toBeLessThanOrEqual(16 * 1024 + 4096 + 1010);
    for (const c of out) expect(c.rows).toBeLessThan(100);
    expect(out.map((c) => c.text).join('')).toBe(csv.toString());
    expect(out.reduce((n, c) => n + c.rows, 0)).toBe(200);
    // each row spans two lines: chunk k starts where the rows before it end
    let line = 2;
    for (const c of out) {
      expect(c.firstLine).toBe(line);
      line += 2 * c.rows;
    }
  });

  it('never cuts before minRows (the rows types are inferred from)', () => {
    const out = chunks(true, 60);
    expect(out[0].rows).toBe(60);
    expect(out[1].rows).toBeLessThan(60);
  });

  it('SIMD and JavaScript cut at the same rows', () => {
    expect(chunks(true)).toEqual(chunks(false));
  });
});
