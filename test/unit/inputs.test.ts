/** Source path resolution: the config's directory is literal, an existing file is itself, only the written part globs. */
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { escapePath } from 'tinyglobby';
import { checkFiles } from '../../src/config/files';
import { expandInputs, matchInputs, matchInputsAndLoops, patternNames } from '../../src/inputs';
import { resolveInputs } from '../../src/io/sources';

let root: string;
const touch = (...parts: string[]) => {
  const f = path.join(root, ...parts);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, 'a\n1\n');
  return f;
};

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sluice-inputs-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Each name would glob to something else (or to nothing) if read as a pattern.
const WEIRD_DIRS = ['job[1]', 'a*b', 'q?', 'set{x,y}', 'paren (1)', '!bang', 'sp ace'];

describe.each(WEIRD_DIRS)('config directory %j', (dir) => {
  it('is read literally, never as a glob', () => {
    const base = path.join(root, dir);
    const mine = touch(dir, 'data', 'in.csv');
    // The decoys a glob reading of the directory would pick up instead or as well.
    touch('job1', 'data', 'in.csv');
    touch('axxb', 'data', 'in.csv');
    touch('qz', 'data', 'in.csv');
    touch('setx', 'data', 'in.csv');
    expect(matchInputs('data/in.csv', base)).toEqual([mine]);
    expect(matchInputs('data/*.csv', base)).toEqual([mine]);
    expect(matchInputs('./data/../data/*.csv', base)).toEqual([mine]);
    expect(expandInputs(['data/in.csv', 'data/*.csv'], base)).toEqual([mine]);
  });
});

describe('file names with glob characters', () => {
  const names = ['in[1].csv', 'in*.csv', 'in?.csv', 'in{1,2}.csv', 'in(1).csv', 'in!.csv', 'in 1.csv'];
  it.each(names)('an existing file %j is that file only', (name) => {
    const dir = path.join(root, 'names');
    const file = touch('names', name);
    for (const decoy of ['in1.csv', 'in2.csv', 'inx.csv']) touch('names', decoy);
    expect(matchInputs(name, dir)).toEqual([file]);
  });

  it('an existing directory named like a glob is not a glob, and holds no input by itself', () => {
    const dir = path.join(root, 'dirs');
    mkdirSync(path.join(dir, 'd[1]'), { recursive: true });
    touch('dirs', 'd1');
    expect(matchInputs('d[1]', dir)).toEqual([]);
  });

  it('an escaped pattern matches the literal name; the unescaped one is a glob', () => {
    const dir = path.join(root, 'escaped');
    const bracket = touch('escaped', 'x[1]y.csv');
    const plain = touch('escaped', 'x1y.csv');
    expect(matchInputs(`${escapePath('x[1]')}*.csv`, dir)).toEqual([bracket]);
    expect(matchInputs('x\\[1\\]*.csv', dir)).toEqual([bracket]);
    expect(matchInputs('x[1]*.csv', dir)).toContain(plain);
  });

  it('an absolute path under a bracketed directory is literal too', () => {
    const file = touch('abs[2]', 'in.csv');
    touch('abs2', 'in.csv');
    expect(matchInputs(file, '/')).toEqual([file]);
    expect(matchInputs(`${escapePath(path.join(root, 'abs[2]'))}/*.csv`, '/')).toEqual([file]);
  });
});

it("never lists sluice's own hidden siblings (temporaries, moved-aside output, locks)", () => {
  const dir = path.join(root, 'hidden');
  const data = touch('hidden', 'in.csv');
  touch('hidden', '.out.csv.sluice-tmp-123-abcd0123');
  touch('hidden', '.out.sluice-old-123-abcd0123', 'day=1', 'part-00000.csv');
  touch('hidden', '.out.csv.sluice-lock');
  expect(matchInputs('**/*', dir)).toEqual([data]);
  expect(matchInputs('{.*,*}', dir)).toEqual([data]);
  expect(matchInputs('**/.*', dir)).toEqual([]);
});

describe('patternNames (would a source pattern read this future output?)', () => {
  const base = '/w/job[1]';
  it.each([
    ['data/*.csv', '/w/job[1]/data/out.csv', true],
    ['data/out.csv', '/w/job[1]/data/out.csv', true],
    ['data/**/*.parquet', '/w/job[1]/data/out/day=x/part-00000-00000000.parquet', true],
    ['data/in*.csv', '/w/job[1]/data/out.csv', false],
    ['data/*.csv', '/w/job1/data/out.csv', false],
    ['../job[1]/data/*.csv', '/w/job[1]/data/out.csv', false], // the written [1] is a glob: job1
    ['/w/job\\[1\\]/data/*.csv', '/w/job[1]/data/out.csv', true],
  ])('%j names %j: %s', (pattern, file, expected) => {
    expect(patternNames(pattern, base, file)).toBe(expected);
  });
});

describe('each input file is read once, identified by what it is (device and inode)', () => {
  let dir: string;
  const at = (...parts: string[]) => path.join(dir, ...parts);
  beforeAll(() => {
    dir = path.join(root, 'once');
    for (const day of ['2026-11-29', '2026-11-30']) touch('once', 'days', day, 'part.csv');
    symlinkSync('2026-11-30', at('days', 'latest')); // beside the dated folders
    touch('once', 'flat', 'a.csv');
    symlinkSync('a.csv', at('flat', 'alias.csv')); // one file under two names
    linkSync(at('flat', 'a.csv'), at('flat', 'hard.csv')); // and a third, a hard link
    touch('once', 'loop', 'x', 'y.csv');
    symlinkSync('..', at('loop', 'x', 'up')); // loop/x/up -> loop: a glob goes round it
    touch('once', 'elsewhere', 'only.csv');
    mkdirSync(at('linked'));
    symlinkSync(at('elsewhere'), at('linked', 'shared')); // a symlinked folder reached no other way
  });

  it('a ** glob through a "latest" symlink reads that day once, under its own name', () => {
    expect(expandInputs('days/**/*.csv', dir)).toEqual([at('days', '2026-11-29', 'part.csv'), at('days', '2026-11-30', 'part.csv')]);
  });

  it('a file linked under two names (symlink, hard link) is one input', () => {
    expect(matchInputs('flat/*.csv', dir)).toEqual([at('flat', 'a.csv')]);
  });

  it('a glob and an explicit list naming the same file, by the same or another name, read it once', () => {
    expect(expandInputs(['flat/alias.csv', 'flat/*.csv'], dir)).toEqual([at('flat', 'a.csv')]);
    expect(expandInputs(['flat/alias.csv', 'flat/hard.csv'], dir)).toHaveLength(1);
    expect(expandInputs(['days/latest/part.csv', 'days/2026-11-30/part.csv'], dir)).toEqual([at('days', '2026-11-30', 'part.csv')]);
  });

  it('a symlinked folder reached no other way is still read (under the name the glob found)', () => {
    expect(expandInputs('linked/**/*.csv', dir)).toEqual([at('linked', 'shared', 'only.csv')]);
  });

  it('a symlink loop: the file once, and the loop named (which validate and the source refuse)', () => {
    const { files, loops } = matchInputsAndLoops('loop/**/*.csv', dir);
    expect(files).toEqual([at('loop', 'x', 'y.csv')]);
    expect(loops).toEqual([at('loop', 'x', 'up')]);
    expect(() => resolveInputs('loop/**/*.csv', dir)).toThrow(`"loop/**/*.csv" goes round a symlink loop through ${at('loop', 'x', 'up')} (a link to a folder that holds it); remove the link or narrow the pattern`);
    expect(checkFiles({ source: { path: 'loop/**/*.csv' } }, dir)).toEqual([
      { path: 'source.path', message: `"loop/**/*.csv" goes round a symlink loop: ${at('loop', 'x', 'up')} -> ${at('loop')} (a link to a folder that holds it); remove the link or narrow the pattern so it does not go through it` },
    ]);
    expect(matchInputsAndLoops('days/**/*.csv', dir).loops).toEqual([]);
  });
});
