/**
 * Run parameters (src/config/params.ts, from-params.ts): the params block, `--set` parsing and
 * coercion to each type, every problem at once, and paths computed from the values; then the
 * same through check/ (the one pass `validate`, `explain` and `run` share).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPipeline } from '../../../src/check';
import { expandInputs } from '../../../src/config/files';
import { computeFromParams } from '../../../src/config/from-params';
import { coerceParam, dateProblem, declaredParams, resolveParams, type ResolvedParams } from '../../../src/config/params';
import { ConfigError } from '../../../src/errors';

const messages = (issues: { path: string; message: string }[]) => issues.map((i) => `${i.path}: ${i.message}`);

describe('coerceParam', () => {
  it.each([
    ['number', '42', 42],
    ['number', '-1.5', -1.5],
    ['number', '.5', 0.5],
    ['number', '1e3', 1000],
    ['number', '+7', 7],
    ['number', '0', 0],
    ['number', '0.0', 0],
    ['number', '9007199254740991', 9007199254740991],
    ['number', '-9007199254740991', -9007199254740991],
    ['number', '9007199254740992', 9007199254740992],
    ['number', '1e21', 1e21],
    ['number', '0.1', 0.1],
    ['number', '1.50', 1.5],
    ['number', '007', 7],
    ['number', '1.7976931348623157e308', 1.7976931348623157e308],
    ['boolean', 'true', true],
    ['boolean', 'false', false],
    ['string', '', ''],
    ['string', 'a=b c', 'a=b c'],
    ['date', '2026-11-30', '2026-11-30'],
    ['date', '2024-02-29', '2024-02-29'],
  ] as const)('%s %j → %j', (type, text, value) => {
    expect(coerceParam(type, text)).toEqual({ value });
  });

  it.each([
    ['number', '', 'must be a number, got ""'],
    ['number', ' 1', 'must be a number, got " 1"'],
    ['number', '0x10', 'must be a number written in decimal, got "0x10"'],
    ['number', 'Infinity', 'must be a number (finite), got "Infinity"'],
    ['number', 'NaN', 'must be a number (finite), got "NaN"'],
    ['number', '-Infinity', 'must be a number (finite), got "-Infinity"'],
    ['number', '0x1f', 'must be a number written in decimal, got "0x1f"'],
    ['number', '0b101', 'must be a number written in decimal, got "0b101"'],
    ['number', '12abc', 'must be a number, got "12abc"'],
    ['number', '12 ', 'must be a number, got "12 "'],
    ['number', '1_000', 'must be a number, got "1_000"'],
    ['number', '1e999', `is beyond the range of a number (about ±1.8e308), got "1e999": declare the param { type: 'string' } to keep it as text`],
    ['number', '-1e400', `is beyond the range of a number (about ±1.8e308), got "-1e400": declare the param { type: 'string' } to keep it as text`],
    ['number', '-0', 'must not be -0 (it reads as 0 in a path and compares equal to 0), got "-0": write 0'],
    ['number', '-0.0e5', 'must not be -0 (it reads as 0 in a path and compares equal to 0), got "-0.0e5": write 0'],
    ['number', '9007199254740993', `is beyond 2^53 (9007199254740991), where a number cannot hold every integer: it would be read as 9007199254740992, got "9007199254740993"; declare the param { type: 'string' } and convert it in the stage (BigInt, a decimal library)`],
    ['number', '-12345678901234567890', `is beyond 2^53 (9007199254740991), where a number cannot hold every integer: it would be read as -12345678901234567000, got "-12345678901234567890"; declare the param { type: 'string' } and convert it in the stage (BigInt, a decimal library)`],
    ['number', '0.10000000000000000001', `has more digits than a number keeps: it would be read as 0.1, got "0.10000000000000000001"; declare the param { type: 'string' } and convert it in the stage (BigInt, a decimal library)`],
    ['number', '1e-400', `has more digits than a number keeps: it would be read as 0, got "1e-400"; declare the param { type: 'string' } and convert it in the stage (BigInt, a decimal library)`],
    ['number', '1,5', 'must be a number, got "1,5"'],
    ['boolean', 'yes', 'must be true or false (written so: not yes, no, 1, 0 or TRUE), got "yes"'],
    ['boolean', 'TRUE', 'must be true or false (written so: not yes, no, 1, 0 or TRUE), got "TRUE"'],
    ['boolean', '1', 'must be true or false (written so: not yes, no, 1, 0 or TRUE), got "1"'],
    ['date', '2026-13-45', 'must be a date written YYYY-MM-DD (there is no month 13), got "2026-13-45"'],
    ['date', '2026-02-29', 'must be a date written YYYY-MM-DD (2026-02 has days 01 to 28), got "2026-02-29"'],
    ['date', '2026-04-31', 'must be a date written YYYY-MM-DD (2026-04 has days 01 to 30), got "2026-04-31"'],
    ['date', '2026-11-00', 'must be a date written YYYY-MM-DD (2026-11 has days 01 to 30), got "2026-11-00"'],
    ['date', '2026-1-5', 'must be a date written YYYY-MM-DD, got "2026-1-5"'],
    ['date', '2026-11-30T00:00', 'must be a date written YYYY-MM-DD, got "2026-11-30T00:00"'],
    ['date', 'yesterday', 'must be a date written YYYY-MM-DD, got "yesterday"'],
  ] as const)('%s %j is refused', (type, text, problem) => {
    expect(coerceParam(type, text)).toEqual({ problem });
  });

  it('dateProblem knows leap years', () => {
    expect(dateProblem('2000-02-29')).toBeUndefined();
    expect(dateProblem('1900-02-29')).toMatch(/1900-02 has days 01 to 28/);
  });
});

describe('declaredParams', () => {
  it('takes a default as its type, or a type with an optional default', () => {
    const { declared, issues } = declaredParams({
      region: 'eu',
      limit: 100,
      dry: false,
      day: { type: 'date', description: 'the day to load' },
      since: { type: 'date', default: '2026-01-01' },
      n: { type: 'number' },
    });
    expect(issues).toEqual([]);
    expect(Object.fromEntries(declared)).toEqual({
      region: { type: 'string', default: 'eu' },
      limit: { type: 'number', default: 100 },
      dry: { type: 'boolean', default: false },
      day: { type: 'date', description: 'the day to load' },
      since: { type: 'date', default: '2026-01-01' },
      n: { type: 'number' },
    });
  });

  it('reports every malformed param by path', () => {
    const { declared, issues } = declaredParams({
      'my-day': 'x',
      a: [1],
      b: null,
      c: { type: 'int' },
      d: { type: 'number', default: '5' },
      e: { type: 'date', default: '2026-02-30' },
      f: { type: 'string', defualt: 'x' },
      g: Infinity,
      h: { default: 1 },
      i: -0,
      j: { type: 'number', default: 2 ** 53 + 2 },
      k: { type: 'number', default: NaN },
      ok: 1,
    });
    expect(messages(issues)).toEqual([
      'params.my-day: a param name starts with a letter or _ and holds only letters, digits and _ (it is written --set name=value and read as params.name)',
      "params.a: must be a default value (a string, number or boolean) or { type: 'string' | 'number' | 'boolean' | 'date', default?, description? }, got [1]",
      "params.b: must be a default value (a string, number or boolean) or { type: 'string' | 'number' | 'boolean' | 'date', default?, description? }, got null",
      'params.c.type: must be one of string, number, boolean, date, got "int"',
      'params.d.default: must be a finite number, got "5"',
      'params.e.default: must be a date written YYYY-MM-DD (2026-02 has days 01 to 28), got "2026-02-30"',
      'params.f.defualt: unknown key (did you mean "default"?); allowed: type, default, description, pattern',
      'params.g: a number default must be a finite number, got Infinity',
      'params.h.type: must be one of string, number, boolean, date, missing',
      'params.i: a number default must not be -0 (it reads as 0 in a path and compares equal to 0; write 0), got -0',
      "params.j.default: must be within ±2^53 (9007199254740991): beyond it a number cannot hold every integer and the literal may already be rounded (declare the param { type: 'string' } and convert it in the stage with BigInt), got 9007199254740994",
      'params.k.default: must be a finite number, got NaN',
    ]);
    expect([...declared.keys()]).toEqual(['ok']);
  });

  it('refuses a params block that is not an object', () => {
    expect(messages(declaredParams(['day']).issues)).toEqual(["params: must be an object of params ({ day: { type: 'date' }, limit: 100 }), got [\"day\"]"]);
  });
});

describe('resolveParams', () => {
  const block = { day: { type: 'date' }, limit: 100, dry: false, region: 'eu' };

  it('applies --set over the defaults, coerced to each type, and says where each value came from', () => {
    const { params, issues } = resolveParams(block, ['day=2026-11-30', 'limit=5', 'dry=true']);
    expect(issues).toEqual([]);
    expect(params).toEqual({
      values: { day: '2026-11-30', limit: 5, dry: true, region: 'eu' },
      types: { day: 'date', limit: 'number', dry: 'boolean', region: 'string' },
      from: { day: '--set', limit: '--set', dry: '--set', region: 'default' },
    });
    expect(Object.isFrozen(params!.values)).toBe(true);
  });

  it('lets the last --set of a name win, and keeps everything after the first =', () => {
    const { params } = resolveParams({ q: 'x', n: 1 }, ['q=a=b', 'n=1', 'n=2', 'q=c=d']);
    expect(params?.values).toEqual({ q: 'c=d', n: 2 });
  });

  it('reports unknown, malformed, unparseable and missing params all at once', () => {
    const { params, issues } = resolveParams({ ...block, since: { type: 'date' } }, ['dya=2026-11-30', 'limit=ten', 'dry=yes', 'nothing', '=1', 'day=2026-13-45']);
    expect(params).toBeUndefined();
    expect(messages(issues)).toEqual([
      '--set: no param named "dya" (params: day, limit, dry, region, since; did you mean "day"?)',
      '--set limit: must be a number, got "ten"',
      '--set dry: must be true or false (written so: not yes, no, 1, 0 or TRUE), got "yes"',
      '--set: expected <param>=<value>, got "nothing"',
      '--set: expected <param>=<value>, got "=1"',
      '--set day: must be a date written YYYY-MM-DD (there is no month 13), got "2026-13-45"',
      // `day` was given (and refused above): only `since` is missing.
      'params.since: required (it has no default) and not given: pass --set since=YYYY-MM-DD',
    ]);
  });

  it('names every missing required param (with its description)', () => {
    const { issues } = resolveParams({ day: { type: 'date', description: 'the day to load' }, n: { type: 'number' }, s: { type: 'string' }, b: { type: 'boolean' } });
    expect(messages(issues)).toEqual([
      'params.day: required (it has no default) and not given: pass --set day=YYYY-MM-DD (the day to load)',
      'params.n: required (it has no default) and not given: pass --set n=<number>',
      'params.s: required (it has no default) and not given: pass --set s=text',
      'params.b: required (it has no default) and not given: pass --set b=true',
    ]);
  });

  it('says so when a config has no params at all', () => {
    expect(messages(resolveParams(undefined, ['day=1']).issues)).toEqual([
      '--set: no param named "day": the config declares no params (add them to its params block: params: { day: <default> })',
    ]);
    expect(resolveParams(undefined)).toEqual({ params: { values: {}, types: {}, from: {} }, issues: [] });
  });
});

describe('computeFromParams', () => {
  const params: ResolvedParams = { values: { day: '2026-11-30' }, types: { day: 'date' }, from: { day: '--set' } };

  it('calls source.path and sink.path with the params, without touching the written config', async () => {
    const written = {
      source: { format: 'csv', path: ({ params }: { params: { day: string } }) => [`in/${params.day}/*.csv`] },
      sink: { format: 'csv', path: async ({ params }: { params: { day: string } }) => `out/${params.day}.csv` },
    };
    const { config, issues, unresolved } = await computeFromParams(written, params);
    expect(issues).toEqual([]);
    expect(unresolved).toEqual([]);
    expect(config).toEqual({ source: { format: 'csv', path: ['in/2026-11-30/*.csv'] }, sink: { format: 'csv', path: 'out/2026-11-30.csv' } });
    expect(typeof written.source.path).toBe('function');
  });

  it('leaves a path out when there are no params or its function throws, and says which', async () => {
    const written = {
      source: { path: () => 'x' },
      sink: {
        path: () => {
          throw new Error('no such day');
        },
      },
    };
    expect(await computeFromParams(written, undefined)).toMatchObject({ issues: [], unresolved: ['source.path', 'sink.path'] });
    const thrown = await computeFromParams(written, params);
    expect(thrown.unresolved).toEqual(['sink.path']);
    expect(messages(thrown.issues)).toEqual(['sink.path: its function threw: no such day']);
  });

  it('says so when a path function returns no path', async () => {
    const written = { source: { path: () => undefined }, sink: { path: () => ['a', 'b'] } };
    const { issues, unresolved } = await computeFromParams(written, params);
    expect(unresolved).toEqual(['source.path', 'sink.path']);
    expect(messages(issues)).toEqual([
      'source.path: its function returned nothing; it must return a path or glob, or a list of them',
      'sink.path: its function returned a list; it must return a path',
    ]);
  });
});

describe('params through check/', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-params-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'in', '2026-11-30'), { recursive: true });
  writeFileSync(path.join(dir, 'in', '2026-11-30', 'a.csv'), 'id,v\n1,a\n');
  const written = (params: unknown) => ({
    name: 'p',
    params,
    source: { format: 'csv', path: ({ params }: { params: { day: string } }) => `in/${params.day}/*.csv` },
    stages: [],
    sink: { format: 'csv', path: 'out.csv' },
  });
  const where = (set?: string[]) => ({ file: path.join(dir, 'p.config.ts'), baseDir: dir, set });

  it('resolves the params and checks the computed path', async () => {
    const checked = await checkPipeline(written({ day: { type: 'date' } }), where(['day=2026-11-30']));
    expect(checked.params.values).toEqual({ day: '2026-11-30' });
    expect(checked.config.source.path).toBe('in/2026-11-30/*.csv');
    await expect(checkPipeline(written({ day: { type: 'date' } }), where(['day=2026-11-29']))).rejects.toThrow('source.path: no file matches "in/2026-11-29/*.csv"');
  });

  describe('a param pasted into a path is literal there, unless declared a pattern', () => {
    for (const d of ['acme[1]', 'acme1', 'acme2', 'b!x', 'c+(d)', 'e@f,g', 'h{i,j}', 'hi']) {
      mkdirSync(path.join(dir, 'regions', d), { recursive: true });
      writeFileSync(path.join(dir, 'regions', d, 'a.csv'), 'id\n1\n');
    }
    writeFileSync(path.join(dir, 'regions', 'acme[1].csv'), 'id\n1\n');
    const regional = (source: (p: { params: { region: string } }) => string, pattern?: boolean) => ({
      ...written({ region: { type: 'string', ...(pattern !== undefined && { pattern }) } }),
      source: { format: 'csv', path: source },
      sink: { format: 'csv', path: ({ params }: { params: { region: string } }) => `out/${params.region}.csv` },
    });
    const inputs = async (config: unknown, region: string) => {
      const checked = await checkPipeline(config, where([`region=${region}`]));
      return { files: expandInputs(checked.config.source.path, dir).map((f) => path.relative(dir, f)), sink: checked.config.sink!.path };
    };
    const glob = ({ params }: { params: { region: string } }) => `regions/${params.region}/*.csv`;

    it.each(['acme[1]', 'b!x', 'c+(d)', 'e@f,g', 'h{i,j}'])('--set region=%s in a glob reads only that folder; the sink path takes it as given', async (region) => {
      expect(await inputs(regional(glob), region)).toEqual({ files: [`regions/${region}/a.csv`], sink: `out/${region}.csv` });
    });

    it('in a plain path (no glob) it names that file', async () => {
      expect((await inputs(regional(({ params }) => `regions/${params.region}.csv`), 'acme[1]')).files).toEqual(['regions/acme[1].csv']);
    });

    it('a param declared { pattern: true } is a glob', async () => {
      expect((await inputs(regional(glob, true), 'acme*')).files).toEqual(['regions/acme1/a.csv', 'regions/acme2/a.csv', 'regions/acme[1]/a.csv'].sort());
      expect((await inputs(regional(glob, true), 'acme[2]')).files).toEqual(['regions/acme2/a.csv']);
    });

    it('pattern is for string params only, and true or false', () => {
      expect(messages(declaredParams({ a: { type: 'number', pattern: true }, b: { type: 'string', pattern: 'yes' } }).issues)).toEqual([
        "params.a.pattern: only a { type: 'string' } param can be a pattern",
        'params.b.pattern: must be true or false, got "yes"',
      ]);
    });
  });

  it('reports a missing param, not the path it leaves unknown, beside the other issues', async () => {
    const bad = { ...written({ day: { type: 'date' } }), ordered: 'yes' };
    const err = await checkPipeline(bad, where()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(path.join(dir, 'p.config.ts'));
    expect(messages((err as ConfigError).issues)).toEqual([
      'params.day: required (it has no default) and not given: pass --set day=YYYY-MM-DD',
      'ordered: must be true or false, got "yes"',
    ]);
  });
});
