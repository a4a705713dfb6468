/**
 * The later-chunk matrix: a CSV value after the inference window is read exactly as the
 * window would have typed it, or the run fails naming file, line and column. Never changed.
 *
 * Dimensions: every type inference produces × every text form a later row can carry × where
 * the row is (the first file after the window; a later batch of that file; a later file).
 * The full product (11 types × 17 forms × 3 places) runs here: each refused cell reads the
 * source in-process (milliseconds); the accepted cells of one place run together as one whole
 * run into a Parquet file that DuckDB reads back. A refused cell also runs whole on each way a
 * CSV is parsed (on the main thread, in the encoder threads of a plain conversion, in a thread
 * stage's copies, beside a process stage), so the check is known to cross to threads. Whole
 * runs are in the test's process (test/helpers/embedded-run.ts: real threads and children,
 * without a CLI child's start-up); the error is the one `sluice run` prints after "sluice: ".
 * NDJSON's half of the matrix is test/e2e/ndjson-later-values.test.ts.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataType } from 'apache-arrow';
import { openSource } from '../../src/io/sources';
import { SourceError } from '../../src/errors';
import { runEmbedded } from '../helpers/embedded-run';
import { duckRows } from '../helpers/duckdb';
import { FIXTURE_STAGES, workspace, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => (ws = workspace('sluice-later-')));
afterAll(() => ws.cleanup());

/** A column's type as inference gives it, from three sampled values. */
interface TypeCase {
  name: string;
  window: [string, string, string];
}

const TYPES: TypeCase[] = [
  { name: 'int', window: ['1', '-20', '300'] },
  { name: 'float', window: ['1.5', '-2.25', '3'] },
  { name: 'bool', window: ['true', 'false', 'true'] },
  { name: 'date', window: ['2026-01-01', '2026-02-03', '1999-12-31'] },
  { name: 'dt_space', window: ['2026-01-01 10:00:00', '2026-02-03 11:12:13', '1999-12-31 23:59:59'] },
  { name: 'dt_ms', window: ['2026-01-01T10:00:00.123', '2026-02-03T11:12:13.000', '1999-12-31T23:59:59.999'] },
  { name: 'dt_us', window: ['2026-01-01T10:00:00.123456', '2026-02-03T11:12:13.000001', '1999-12-31T23:59:59.999999'] },
  { name: 'dt_ns', window: ['2026-01-01T10:00:00.123456789', '2026-02-03T11:12:13.000000001', '1999-12-31T23:59:59.999999999'] },
  { name: 'dt_utc', window: ['2026-01-01T10:00:00.123Z', '2026-02-03T11:12:13.000Z', '1999-12-31T23:59:59.999Z'] },
  { name: 'time', window: ['10:00:00', '11:12:13', '23:59:59'] },
  { name: 'text', window: ['a', 'b', 'c'] },
];

/** The forms a later row's text can take (by form name), per type. */
const FORMS = ['same form', 'empty', 'leading zero', 'plus sign', 'space before', 'space after', 'exponent', 'extra fraction digits', 'other separator', 'zone Z', 'zone offset', 'NaN', 'inf', 'beyond range', 'tiny', 'letters', 'quoted'] as const;
type Form = (typeof FORMS)[number];

/**
 * What each cell must do: `ok` with the value DuckDB reads back (as VARCHAR; timestamps in
 * UTC), `refused`, or absent where the form means nothing for the type (it is still run, and
 * must be one or the other: see the last test). Written by hand from the rule, not from sluice.
 */
type Expect = { text: string; ok: string | null } | { text: string; refused: true };
const ok = (text: string, value: string | null): Expect => ({ text, ok: value });
const no = (text: string): Expect => ({ text, refused: true });

const CELLS: Record<string, Partial<Record<Form, Expect>>> = {
  int: {
    'same form': ok('-4567', '-4567'),
    empty: ok('', null),
    'leading zero': no('01234'),
    'plus sign': no('+5'),
    'space before': no(' 7'),
    'space after': no('7 '),
    exponent: no('1e3'),
    'extra fraction digits': no('2.0'),
    NaN: no('NaN'),
    inf: no('inf'),
    'beyond range': no('9223372036854775808'),
    letters: no('12abc'),
    quoted: ok('"42"', '42'),
  },
  float: {
    'same form': ok('-0.125', '-0.125'),
    empty: ok('', null),
    'leading zero': no('01.5'),
    'plus sign': no('+1.5'),
    'space before': no(' 1.5'),
    'space after': no('1.5 '),
    exponent: ok('1.5e3', '1500.0'),
    'extra fraction digits': no('0.1000000000000000055511151231257827'),
    NaN: no('NaN'),
    inf: no('inf'),
    'beyond range': no('1e500'),
    tiny: no('1e-400'),
    letters: no('1.5x'),
    quoted: ok('"2.5"', '2.5'),
  },
  bool: {
    'same form': ok('false', 'false'),
    empty: ok('', null),
    'space before': no(' true'),
    letters: no('yes'),
    'leading zero': no('01'),
  },
  date: {
    'same form': ok('2024-02-29', '2024-02-29'),
    empty: ok('', null),
    'leading zero': no('2026-1-05'),
    'space after': no('2026-01-05 '),
    'other separator': no('2026/01/05'),
    'extra fraction digits': no('2026-01-05T00:00:00'),
    'beyond range': no('2026-02-30'),
    letters: no('tomorrow'),
  },
  dt_space: {
    'same form': ok('2026-03-04 05:06:07', '2026-03-04 05:06:07'),
    empty: ok('', null),
    'other separator': no('2026-03-04T05:06:07'),
    'extra fraction digits': no('2026-03-04 05:06:07.5'),
    'zone Z': no('2026-03-04 05:06:07Z'),
    'space before': no(' 2026-03-04 05:06:07'),
    'beyond range': no('2026-03-04 25:06:07'),
  },
  dt_ms: {
    'same form': ok('2026-03-04T05:06:07.890', '2026-03-04 05:06:07.89'),
    empty: ok('', null),
    'extra fraction digits': no('2026-03-04T05:06:07.123456'),
    'other separator': no('2026-03-04 05:06:07.890'),
    'zone Z': no('2026-03-04T05:06:07.890Z'),
    'zone offset': no('2026-03-04T05:06:07.890+02:00'),
    'leading zero': no('2026-03-04T05:06:07'),
    'beyond range': no('2026-03-04T25:06:07.890'),
  },
  dt_us: {
    'same form': ok('2026-03-04T05:06:07.000123', '2026-03-04 05:06:07.000123'),
    'extra fraction digits': no('2026-03-04T05:06:07.123456789'),
    'zone Z': no('2026-03-04T05:06:07.000123Z'),
    'other separator': no('2026-03-04 05:06:07.000123'),
  },
  dt_ns: {
    'same form': ok('2026-03-04T05:06:07.000000123', '2026-03-04 05:06:07.000000123'),
    'extra fraction digits': no('2026-03-04T05:06:07.123'),
    'beyond range': no('2300-03-04T05:06:07.000000123'),
  },
  dt_utc: {
    'same form': ok('2026-03-04T05:06:07.890Z', '2026-03-04 05:06:07.89+00'),
    'zone offset': ok('2026-03-04T07:06:07.890+02:00', '2026-03-04 05:06:07.89+00'),
    empty: ok('', null),
    'extra fraction digits': no('2026-03-04T05:06:07.890123Z'),
    'other separator': no('2026-03-04 05:06:07.890Z'),
    'zone Z': no('2026-03-04T05:06:07.890'),
  },
  time: {
    'same form': ok('01:02:03', '01:02:03'),
    empty: ok('', null),
    'beyond range': no('24:00:01'),
    'space after': no('01:02:03 '),
    letters: no('noon'),
  },
  text: {
    'same form': ok('zzz', 'zzz'),
    'leading zero': ok('007', '007'),
    'plus sign': ok('+5', '+5'),
    'space before': ok(' x', ' x'),
    NaN: ok('NaN', 'NaN'),
    quoted: ok('"a,b"', 'a,b'),
  },
};

/** A text that gives the type the form's meaning elsewhere: every form is tried on every type. */
function generic(type: TypeCase, form: Form): string {
  const v = type.window[0];
  switch (form) {
    case 'same form':
      return type.window[1];
    case 'empty':
      return '';
    case 'leading zero':
      return '0' + v;
    case 'plus sign':
      return '+' + v;
    case 'space before':
      return ' ' + v;
    case 'space after':
      return v + ' ';
    case 'exponent':
      return '1e3';
    case 'extra fraction digits':
      return v + '.000000001';
    case 'other separator':
      return v.replace(/[-T :]/g, (c) => ({ '-': '/', T: ' ', ' ': 'T', ':': '.' })[c] ?? c);
    case 'zone Z':
      return v + 'Z';
    case 'zone offset':
      return v + '+02:00';
    case 'NaN':
      return 'NaN';
    case 'inf':
      return '-inf';
    case 'beyond range':
      return '99999999999999999999999';
    case 'tiny':
      return '1e-400';
    case 'letters':
      return v + 'x';
    case 'quoted':
      return `"${v}"`;
  }
}

type Place = 'first file' | 'later batch' | 'later file';
const PLACES: Place[] = ['first file', 'later batch', 'later file'];

/**
 * Files for one column whose later row holds `text` at `place`; returns the config's paths and
 * where the row is. Window: 3 rows (inferRows 3); batches of 4 rows.
 */
function layout(dir: string, type: TypeCase, text: string, place: Place, column = type.name): { paths: string[]; file: string; line: number } {
  mkdirSync(dir, { recursive: true });
  const a = path.join(dir, 'a.csv');
  const b = path.join(dir, 'b.csv');
  const window = type.window.map((v) => (/[",]/.test(v) ? `"${v}"` : v));
  if (place === 'later file') {
    writeFileSync(a, [column, ...window].join('\n') + '\n');
    writeFileSync(b, [column, text].join('\n') + '\n');
    return { paths: [a, b], file: b, line: 2 };
  }
  const filler = place === 'later batch' ? [window[0], window[1], window[2], window[0]] : [];
  writeFileSync(a, [column, ...window, ...filler, text].join('\n') + '\n');
  return { paths: [a], file: a, line: 5 + filler.length };
}

async function readAll(paths: string[]): Promise<void> {
  const source = await openSource({ format: 'csv', path: paths, inferRows: 3, batchRows: 4 });
  try {
    for await (const batch of source.batches()) batch.release();
  } finally {
    await source.close();
  }
}

const expectOf = (type: TypeCase, form: Form): Expect | undefined => CELLS[type.name][form];

describe.each(PLACES)('a later value in the %s', (place) => {
  const refused = TYPES.flatMap((type) => FORMS.map((form) => [type, form] as const)).filter(([type, form]) => {
    const e = expectOf(type, form);
    return e !== undefined && 'refused' in e;
  });

  it.each(refused.map(([type, form]) => [`${type.name} × ${form}`, type, form] as const))('%s: refused, naming file, line and column', async (_, type, form) => {
    const e = expectOf(type, form)!;
    const at = layout(path.join(ws.dir, 'refused', place.replace(' ', '-'), type.name, form.replace(/ /g, '-')), type, e.text, place);
    const err = await readAll(at.paths).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toContain(`${at.file}, line ${at.line}, column "${type.name}"`);
  });

  it('every accepted cell reads back exactly (one run through the CLI, DuckDB reads the Parquet)', async () => {
    const cells = TYPES.flatMap((type) => FORMS.map((form) => [type, form, expectOf(type, form)] as const)).filter(
      (c): c is readonly [TypeCase, Form, { text: string; ok: string | null }] => c[2] !== undefined && 'ok' in c[2],
    );
    const dir = path.join(ws.dir, 'accepted', place.replace(' ', '-'));
    // One input file set per cell's column would be many runs; instead one file set with a column per cell.
    const columns = cells.map(([type, form]) => `${type.name}__${form.replace(/ /g, '_')}`);
    const rowsOf = (pick: (cell: (typeof cells)[number], i: number) => string) => cells.map(pick).join(',');
    const window = [0, 1, 2].map((r) => rowsOf(([type]) => csvField(type.window[r])));
    const later = rowsOf(([, , e]) => e.text);
    mkdirSync(dir, { recursive: true });
    const a = path.join(dir, 'a.csv');
    const b = path.join(dir, 'b.csv');
    const header = columns.join(',');
    if (place === 'later file') {
      writeFileSync(a, [header, ...window].join('\n') + '\n');
      writeFileSync(b, [header, later].join('\n') + '\n');
    } else {
      const filler = place === 'later batch' ? [...window, window[0]] : [];
      writeFileSync(a, [header, ...window, ...filler, later].join('\n') + '\n');
    }
    const out = path.join(dir, 'out.parquet');
    const cfg = ws.config(
      { name: 'later', source: { format: 'csv', path: path.join(dir, '*.csv'), inferRows: 3, batchRows: 4 }, stages: [], sink: { format: 'parquet', path: out } },
      `later-${place.replace(' ', '-')}.config.ts`,
    );
    const r = await runEmbedded(cfg);
    expect(r.error).toBeUndefined();
    await duckRows(`SET TimeZone = 'UTC'`);
    const select = columns.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(', ');
    const rows = await duckRows(`SELECT ${select} FROM read_parquet('${out}')`);
    const last = rows[rows.length - 1];
    const got = Object.fromEntries(columns.map((c) => [c, last[c] ?? null]));
    const want = Object.fromEntries(cells.map(([, , e], i) => [columns[i], e.ok]));
    expect(got).toEqual(want);
  });
});

/** The text (a CSV field as written) means exactly the value read: an oracle apart from sluice's own rules. */
function sameValue(field: string, read: { value: unknown; raw: unknown; type: DataType }): boolean {
  const text = /^".*"$/.test(field) ? field.slice(1, -1).replace(/""/g, '"') : field;
  if (text === '') return read.value === null;
  const { value, raw, type } = read;
  if (value === null) return false;
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type)) return value === text;
  if (DataType.isBool(type)) return /^(true|false)$/i.test(text) && value === (text.toLowerCase() === 'true');
  if (DataType.isInt(type)) return /^-?\d+$/.test(text) && BigInt(value as bigint | number) === BigInt(text);
  if (DataType.isFloat(type)) {
    // exact: the shortest text of the value read is the text's number, digit for digit
    if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return false;
    return Number.isFinite(value as number) && normalNumber(String(value)) === normalNumber(text);
  }
  if (DataType.isDate(type)) {
    const ns = instantNs(text);
    return ns !== undefined && BigInt(value as number) * 1_000_000n === ns;
  }
  if (DataType.isTimestamp(type)) {
    const ns = instantNs(text);
    const per = [1_000_000_000n, 1_000_000n, 1_000n, 1n][type.unit];
    return ns !== undefined && (typeof type.timezone === 'string') === /(Z|[+-]\d{2}:\d{2})$/.test(text) && BigInt(raw as bigint) * per === ns;
  }
  if (DataType.isTime(type)) {
    const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
    const per = [1_000_000_000n, 1_000_000n, 1_000n, 1n][type.unit];
    return m !== null && BigInt(raw as bigint | number) * per === ((BigInt(m[1]) * 60n + BigInt(m[2])) * 60n + BigInt(m[3])) * 1_000_000_000n + BigInt((m[4] ?? '').padEnd(9, '0'));
  }
  return false;
}

/** A decimal literal as digits and a power of ten, for comparing numbers written two ways. */
function normalNumber(text: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text)!;
  const frac = m[3] ?? '';
  const digits = (m[2] + frac).replace(/^0+/, '');
  const trimmed = digits.replace(/0+$/, '');
  const exp = Number(m[4] ?? 0) - frac.length + (digits.length - trimmed.length);
  return trimmed ? `${m[1]}${trimmed}e${exp}` : '0';
}

/** Nanoseconds since the epoch of an ISO date or datetime text (an offset subtracted), or undefined. */
function instantNs(text: string): bigint | undefined {
  const m = /^([+-]?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$/.exec(text);
  if (!m) return undefined;
  const day = new Date(0);
  day.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (day.getUTCDate() !== Number(m[3])) return undefined;
  let ns = BigInt(day.getTime()) * 1_000_000n;
  ns += ((BigInt(m[4] ?? 0) * 60n + BigInt(m[5] ?? 0)) * 60n + BigInt(m[6] ?? 0)) * 1_000_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
  if (m[8] && m[8] !== 'Z') ns -= BigInt((m[8][0] === '-' ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)))) * 60_000_000_000n;
  return ns;
}

function csvField(v: string): string {
  return /[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

it('every type × form cell the table leaves open is either exact or refused, never changed', async () => {
  // The table names the cells whose answer matters most; the rest still must not change a
  // value: read each in-process, and where it is accepted, the value must print as its text.
  const open = TYPES.flatMap((type) => FORMS.filter((form) => expectOf(type, form) === undefined).map((form) => [type, form] as const));
  expect(open.length).toBeGreaterThan(50);
  const changed: string[] = [];
  for (const [type, form] of open) {
    const text = generic(type, form);
    const at = layout(path.join(ws.dir, 'open', type.name, form.replace(/ /g, '-')), type, text, 'later file');
    const source = await openSource({ format: 'csv', path: at.paths, inferRows: 3, batchRows: 4 });
    try {
      let read: { value: unknown; raw: unknown; type: DataType } | undefined;
      for await (const batch of source.batches()) {
        const col = batch.batch.getChildAt(0)!;
        const data = col.data[col.data.length - 1];
        const i = data.length - 1;
        if (i >= 0) read = { value: col.get(col.length - 1), raw: (data.values as ArrayLike<unknown>)[i], type: col.type };
        batch.release();
      }
      if (read && !sameValue(text, read)) changed.push(`${type.name} × ${form}: ${JSON.stringify(text)} read as ${String(read.value)} (${String(read.type)})`);
    } catch (err) {
      if (!(err instanceof SourceError) || !err.message.includes(`${at.file}, line ${at.line}, column "${type.name}"`)) throw err;
    } finally {
      await source.close();
    }
  }
  expect(changed).toEqual([]);
});

describe('the check runs wherever the CSV is parsed', () => {
  const int = TYPES[0];
  const ways = [
    ['a plain conversion (encoder threads parse)', []],
    ['an inline stage (main thread parses)', [{ name: 'echo', module: path.join(FIXTURE_STAGES, 'proc-echo.ts'), mode: 'inline' }]],
    ['a thread stage (its copies parse)', [{ name: 'echo', module: path.join(FIXTURE_STAGES, 'proc-echo.ts'), mode: 'thread', concurrency: 2 }]],
    ['a process stage', [{ name: 'echo', module: path.join(FIXTURE_STAGES, 'proc-echo.ts'), mode: 'process' }]],
  ] as const;
  it.each(ways)('%s: a leading zero in a later file fails the run, naming it, and nothing is written', async (label, stages) => {
    const dir = path.join(ws.dir, 'ways', label.replace(/\W+/g, '-'));
    const at = layout(dir, int, '01234', 'later file');
    const out = path.join(dir, 'out.parquet');
    const cfg = ws.config({ name: 'ways', source: { format: 'csv', path: at.paths, inferRows: 3 }, stages, sink: { format: 'parquet', path: out } }, `ways-${label.replace(/\W+/g, '-')}.config.ts`);
    const { error } = await runEmbedded(cfg);
    expect(error?.message).toContain(`${at.file}, line 2, column "int": value "01234" has a leading zero`);
    expect(error?.message).toContain(`inferred from the first 3 rows of ${at.paths[0]} (lines 2–4)`);
    expect(existsSync(out)).toBe(false);
  });
});
