/**
 * The pipeline's graph as the config says it (config/graph.ts): defaults make a list a line;
 * `input` and `from` name what a stage reads and a sink writes; every problem is found in one
 * pass, named with its config path. Checked through `schemaIssues`, as `sluice validate` does.
 */
import path from 'node:path';
import { graphOf } from '../../../src/config/graph';
import { overridden } from '../../../src/config/overrides';
import { schemaIssues } from '../../../src/config/validate';
import { checkFiles } from '../../../src/config/files';

const stage = (name: string, extra: Record<string, unknown> = {}) => ({ name, module: `./${name}.ts`, mode: 'thread', ...extra });
const sink = (name: string | undefined, extra: Record<string, unknown> = {}) => ({ ...(name !== undefined && { name }), format: 'parquet', path: `out/${name ?? 'x'}.parquet`, ...extra });
const config = (stages: unknown[], outputs: Record<string, unknown>) => ({ name: 'g', source: { format: 'csv', path: 'in.csv' }, stages, ...outputs });
const issues = (c: unknown) => schemaIssues(c).issues.map((i) => `${i.path}: ${i.message}`);

describe('the graph a config declares', () => {
  it('is a line by default: each stage reads the one before, the sink the last', () => {
    expect(graphOf(config([stage('a'), stage('b'), stage('c')], { sink: sink(undefined) }))).toEqual({
      stageInputs: [-1, 0, 1],
      sinks: [{ name: 'sink', where: 'sink', from: 2 }],
    });
    expect(graphOf(config([], { sink: sink(undefined) })).sinks).toEqual([{ name: 'sink', where: 'sink', from: -1 }]);
  });

  it('follows input and from: a branch off a stage, a sink on the source', () => {
    const c = config([stage('clean'), stage('pseudo'), stage('daily', { input: 'pseudo' }), stage('raw', { input: 'source' })], {
      sinks: [sink('events', { from: 'pseudo' }), sink('totals', { from: 'daily' }), sink('copy', { from: 'raw' }), sink('src', { from: 'source' })],
    });
    expect(issues(c)).toEqual([]);
    expect(graphOf(c)).toEqual({
      stageInputs: [-1, 0, 1, -1],
      sinks: [
        { name: 'events', where: 'sinks[0]', from: 1 },
        { name: 'totals', where: 'sinks[1]', from: 2 },
        { name: 'copy', where: 'sinks[2]', from: 3 },
        { name: 'src', where: 'sinks[3]', from: -1 },
      ],
    });
  });

  it('names every problem with its config path, in one pass', () => {
    const c = config(
      [stage('a', { input: 'b' }), stage('b'), stage('c', { input: 'nope' }), stage('d', { input: 'd' }), stage('source'), stage('e', { input: 'g' }), stage('f'), stage('g', { input: 'source' })],
      { sinks: [sink('out', { from: 'f' }), sink(undefined, { from: 'zz' }), sink('out', { from: 'g' })] },
    );
    const got = issues(c);
    expect(got).toEqual(
      expect.arrayContaining([
        'stages[0].input: a cycle: a → b → a; a stage reads the source or a stage before it',
        expect.stringMatching(/^stages\[2\]\.input: no stage named "nope"/),
        'stages[3].input: stage "d" cannot read its own output',
        expect.stringMatching(/^stages\[4\]\.name: "source" names the source/),
        expect.stringMatching(/^stages\[5\]\.input: stage "g" is declared after this one \(stages\[7\]\).*move "g" above/),
        expect.stringMatching(/^sinks\[1\]\.name: required when there are several sinks/),
        expect.stringMatching(/^sinks\[1\]\.from: no stage named "zz"/),
        expect.stringMatching(/^sinks\[2\]\.name: duplicate sink name "out" \(also sinks\[0\]\)/),
        expect.stringMatching(/^stages\[2\]: the output of stage "c" goes nowhere/),
      ]),
    );
    // b is read by a (whose input is refused as a cycle): not also said to go nowhere.
    expect(got.filter((i) => i.startsWith('stages[1]'))).toEqual([]);
  });

  it('refuses neither sink nor sinks, and both', () => {
    expect(issues(config([], {}))).toContain('sink: missing: give `sink` (one output) or `sinks` (several, written in one pass)');
    expect(issues(config([], { sink: sink(undefined), sinks: [sink('a')] }))).toContain('sinks: give either `sink` (one output) or `sinks` (several), not both');
    expect(issues(config([], { sinks: [] }))).toEqual([expect.stringMatching(/^sinks: must list at least one sink/)]);
  });

  it('refuses a stage whose output nothing reads: its rows would be lost without a word', () => {
    expect(issues(config([stage('a'), stage('b', { input: 'source' })], { sink: sink(undefined) }))).toEqual([
      'stages[0]: the output of stage "a" goes nowhere: no stage has `input: "a"` and no sink has `from: "a"`; add a sink that writes it, or remove the stage',
    ]);
  });

  it('knows the keys of a sink inside sinks (a typo gets a hint)', () => {
    expect(issues(config([], { sinks: [{ ...sink('a'), formt: 'csv' }] }))).toEqual([expect.stringMatching(/^sinks\[0\]\.formt: unknown key \(did you mean "format"\?\)/)]);
  });
});

describe('sink paths of one run', () => {
  const dir = '/tmp/graph-paths';
  it('refuses two sinks on one path, and one inside the other', () => {
    const c = config([stage('a')], {
      sinks: [sink('a', { path: 'out/events', partitionBy: ['day'] }), sink('b', { path: 'out/events' }), sink('c', { path: 'out/events/day=1/x.parquet' }), sink('d', { path: 'out/other.parquet' })],
    });
    const got = checkFiles(c, dir).filter((i) => i.path.startsWith('sinks'));
    expect(got.map((i) => `${i.path}: ${i.message}`)).toEqual([
      `sinks[1].path: ${path.join(dir, 'out/events')} is the same path as sinks[0] (${path.join(dir, 'out/events')}): each sink of a run writes a path of its own`,
      `sinks[2].path: ${path.join(dir, 'out/events/day=1/x.parquet')} is a path inside (or around) that of sinks[0] (${path.join(dir, 'out/events')}): each sink of a run writes a path of its own`,
    ]);
  });
});

describe('--sink-path with several sinks', () => {
  const c = config([stage('a')], { sinks: [sink('events', { from: 'a' }), sink('totals', { from: 'a' })] });
  const apply = (sinkPath: string[]) => overridden(c, { sinkPath }, (p) => `/abs/${p}`);

  it('moves the sinks it names, by <name>=<path>', () => {
    const { config: out, issues } = apply(['totals=t.parquet']);
    expect(issues).toEqual([]);
    expect((out as { sinks: { path: string }[] }).sinks.map((s) => s.path)).toEqual(['out/events.parquet', '/abs/t.parquet']);
    expect((c as unknown as { sinks: { path: string }[] }).sinks[1].path).toBe('out/totals.parquet'); // the user's module object is never written
  });

  it('refuses a bare path, an unknown name and a sink given twice', () => {
    expect(apply(['x.parquet']).issues.map((i) => i.message)).toEqual(['expected <sink>=<path> naming one of the sinks (events, totals), got "x.parquet"']);
    expect(apply(['nope=x']).issues.map((i) => i.message)).toEqual(['expected <sink>=<path> naming one of the sinks (events, totals), got "nope=x"']);
    expect(apply(['events=a', 'events=b']).issues.map((i) => i.message)).toEqual(['sinks[0] is given more than once']);
  });

  it('with one sink, takes a plain path as before (and its name too)', () => {
    const one = config([], { sink: sink(undefined) });
    expect((overridden(one, { sinkPath: 'o.csv' }, (p) => `/abs/${p}`).config as { sink: { path: string } }).sink.path).toBe('/abs/o.csv');
    expect((overridden(one, { sinkPath: ['a=b.csv'] }, (p) => `/abs/${p}`).config as { sink: { path: string } }).sink.path).toBe('/abs/a=b.csv');
  });
});
