/**
 * Everything knowable before a run, in one pass (src/check/): each issue with its config
 * path and exact message, and none hidden behind another.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPipeline } from '../../../src/check';
import { ConfigError } from '../../../src/errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => path.join(dir, f);
writeFileSync(at('in.csv'), 'id,name,day,x\n1,a,2026-11-01,0.5\n2,b,2026-11-02,1.5\n');
writeFileSync(at('stage.js'), 'module.exports = { default: { process: (b) => b } };');
writeFileSync(at('stateful.js'), 'module.exports = { default: { process: () => undefined, flush: () => undefined } };');
writeFileSync(at('per-copy.js'), 'module.exports = { default: { process: () => undefined, flush: () => undefined, perCopyFlush: true } };');
writeFileSync(at('no-default.js'), 'module.exports = { helper: 1 };');
writeFileSync(at('combines.js'), 'module.exports = { default: { process: () => undefined, flush: () => undefined, combine: (p) => p } };');
writeFileSync(at('combine-no-flush.js'), 'module.exports = { default: { process: (b) => b, combine: (p) => p } };');
writeFileSync(at('combine-not-fn.js'), "module.exports = { default: { process: (b) => b, flush: () => undefined, combine: 'all' } };");
writeFileSync(at('not-a-stage.js'), 'module.exports = { default: { proces: (b) => b } };');
writeFileSync(at('throws.js'), "throw new Error('deliberate import failure');");
writeFileSync(at('throws-lines.js'), "throw new Error('Transform failed with 1 error:\\nstage.ts:2:0: ERROR: Expected }\\nRequire stack:\\n- /x.js');");
writeFileSync(at('bad-flush.js'), "module.exports = { default: { process: (b) => b, flush: 'later' } };");
writeFileSync(at('keeps.js'), 'module.exports = { default: { process: (b) => b, keepsColumns: true } };');
// Reads the columns its options name, drops `drop`, adds `extra`.
writeFileSync(
  at('declares.js'),
  "module.exports = { default: { process: (b) => b, inputColumns: (o) => ({ columns: o.columns, drop: o.drop }), outputColumns: (input, o) => [...input.filter((c) => !(o.drop || []).includes(c)), ...(input.includes('extra') ? [] : ['extra'])] } };",
);
writeFileSync(at('declares-badly.js'), "module.exports = { default: { process: (b) => b, inputColumns: () => { throw new Error('no options.columns'); }, outputColumns: () => 'day' } };");
writeFileSync(at('bad-declarations.js'), "module.exports = { default: { process: (b) => b, keepsColumns: 'yes', inputColumns: ['a'] } };");

const config = (over: Record<string, unknown> = {}) => ({
  name: 'p',
  source: { format: 'csv', path: 'in.csv' },
  stages: [{ name: 'one', module: './stage.js', mode: 'inline' }],
  sink: { format: 'parquet', path: 'out.parquet' },
  ...over,
});

async function issues(raw: unknown, original?: unknown): Promise<string[]> {
  try {
    await checkPipeline(raw, { file: at('p.config.ts'), baseDir: dir, original });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('checkPipeline', () => {
  it('accepts a valid config', async () => {
    await expect(checkPipeline(config(), { file: '', baseDir: dir })).resolves.toMatchObject({
      config: { name: 'p' },
      sourceColumns: { file: at('in.csv'), names: ['id', 'name', 'day', 'x'] },
    });
  });

  it('lists a schema error, a duplicate name, a missing file, a missing default export and a bad partitionBy column in one pass', async () => {
    const raw = config({
      stages: [
        { name: 'one', module: './stage.js', mode: 'inline', concurrency: 0, keepsColumns: true },
        { name: 'one', module: './missing.js', mode: 'thread', keepsColumns: true },
        { name: 'three', module: './no-default.js', mode: 'thread', keepsColumns: true },
      ],
      sink: { format: 'parquet', path: 'out', partitionBy: ['dy'] },
    });
    expect(await issues(raw)).toEqual([
      'stages[0].concurrency: must be an integer >= 1, got 0',
      'stages[1].name: duplicate stage name "one" (also stages[0]); names must be unique',
      `stages[1].module: file not found: ${at('missing.js')}`,
      `stages[2].module: ${at('no-default.js')} has no default export; write \`export default defineStage({ process(batch, ctx) { … } })\``,
      `sink.partitionBy[0]: column "dy" is not in the source (columns: id, name, day, x; did you mean "day"?); read from ${at('in.csv')}`,
    ]);
  });

  it('checks partitionBy against the source with no stages, and reports a missing source file with the rest', async () => {
    const found = await issues(
      config({
        name: '',
        stages: [],
        source: { format: 'csv', path: ['in.csv', 'nope-*.csv'] },
        sink: { format: 'csv', path: 'out', partitionBy: ['dy'] },
      }),
    );
    expect(found).toEqual([
      'name: must be a non-empty name, got ""',
      `source.path[1]: no file matches "nope-*.csv" (resolved to ${at('nope-*.csv')})`,
      `sink.partitionBy[0]: column "dy" is not in the source (columns: id, name, day, x; did you mean "day"?); read from ${at('in.csv')}`,
    ]);
  });

  it('names each way a stage module can fail to be a stage', async () => {
    const stages = ['throws', 'not-a-stage', 'bad-flush', 'throws-lines'].map((m, i) => ({ name: `s${i}`, module: `./${m}.js`, mode: 'inline' }));
    expect(await issues(config({ stages }))).toEqual([
      `stages[0].module: cannot load ${at('throws.js')}: deliberate import failure`,
      `stages[1].module: the default export of ${at('not-a-stage.js')} is not a stage: it has no process() function (got an object with proces); write \`export default defineStage({ process(batch, ctx) { … } })\``,
      `stages[2].module: the default export of ${at('bad-flush.js')}: flush must be a function, got "later"`,
      // a compile error's cause is on its second line; Node's require stack is left out
      `stages[3].module: cannot load ${at('throws-lines.js')}: Transform failed with 1 error: stage.ts:2:0: ERROR: Expected }`,
    ]);
  });

  it('refuses a stage with flush() at concurrency 2 unless it declares perCopyFlush, also when an override set it', async () => {
    const refusal =
      'stage "aggregate" has flush() (it keeps state across batches); with 2 copies each copy would flush its own partial result. ' +
      'Use concurrency: 1, give it key: [columns] in its config entry so that every row of a key goes to one copy (a per-key aggregate), give it a combine(partials) that merges the copies’ results, or declare perCopyFlush: true in its defineStage({ … }) if each copy’s output is complete on its own';
    const stateful = (concurrency: number) => config({ stages: [{ name: 'aggregate', module: './stateful.js', mode: 'thread', concurrency }] });
    expect(await issues(stateful(2))).toEqual([`stages[0].concurrency: ${refusal}`]);
    expect(await issues(stateful(2), stateful(1))).toEqual([`stages[0].concurrency: ${refusal} (set by --concurrency)`]);
    await expect(checkPipeline(stateful(1), { file: '', baseDir: dir })).resolves.toBeDefined();
    const perCopy = config({ stages: [{ name: 'aggregate', module: './per-copy.js', mode: 'thread', concurrency: 2 }] });
    await expect(checkPipeline(perCopy, { file: '', baseDir: dir })).resolves.toBeDefined();
    const combines = config({ stages: [{ name: 'aggregate', module: './combines.js', mode: 'thread', concurrency: 2 }] });
    await expect(checkPipeline(combines, { file: '', baseDir: dir })).resolves.toBeDefined();
  });

  it('refuses combine() without flush(), and a combine that is not a function', async () => {
    const stage = (module: string) => config({ stages: [{ name: 'aggregate', module, mode: 'thread', concurrency: 2 }] });
    expect(await issues(stage('./combine-no-flush.js'))).toEqual([
      `stages[0].module: the default export of ${at('combine-no-flush.js')}: combine() merges what each copy's flush() returns, and it has no flush()`,
    ]);
    expect(await issues(stage('./combine-not-fn.js'))).toEqual([`stages[0].module: the default export of ${at('combine-not-fn.js')}: combine must be a function, got "all"`]);
  });

  it('checks projection and schema keys against the source, and a partition column the projection drops', async () => {
    const found = await issues(
      config({
        source: { format: 'csv', path: 'in.csv', columns: ['id', 'nme'], schema: { idd: 'utf8', x: 'float64' } },
        stages: [],
        sink: { format: 'parquet', path: 'out', partitionBy: ['day'] },
      }),
    );
    expect(found).toEqual([
      `source.columns[1]: column "nme" is not in the source (columns: id, name, day, x; did you mean "name"?); read from ${at('in.csv')}`,
      `source.schema.idd: column "idd" is not in the source (columns: id, name, day, x; did you mean "id"?); read from ${at('in.csv')}`,
      'sink.partitionBy[0]: column "day" is left out by source.columns (id, nme); add it there',
    ]);
  });

  it('leaves sink.partitionBy unchecked when a stage may change the columns (no keepsColumns)', async () => {
    const raw = config({ sink: { format: 'parquet', path: 'out', partitionBy: ['made_by_a_stage'] } });
    await expect(checkPipeline(raw, { file: '', baseDir: dir })).resolves.toBeDefined();
  });

  it('checks an NDJSON projection against the first batch, with an ignored CSV-only key in the same pass', async () => {
    writeFileSync(at('in.ndjson'), '{"id":1,"day":"2026-11-01"}\n');
    const found = await issues(config({ source: { format: 'ndjson', path: 'in.ndjson', delimiter: ';', columns: ['idx'] } }));
    expect(found).toEqual([
      'source.delimiter: applies to CSV sources only; a ndjson source would ignore it (its files carry their own layout); remove it',
      `source.columns[0]: column "idx" is not in the source (columns: id, day; did you mean "id"?); read from ${at('in.ndjson')}`,
    ]);
  });

  it('reports a first file that cannot be read at source.path, unless the run is to report it itself', async () => {
    writeFileSync(at('bad.arrow'), 'not arrow at all');
    writeFileSync(at('ragged.csv'), 'a,b\n1,2\n3\n');
    const arrow = await issues(config({ source: { format: 'arrow', path: 'bad.arrow', columns: ['a'] } }));
    expect(arrow).toEqual([expect.stringMatching(/^source\.path: cannot read the source's columns: .*bad\.arrow: not an Arrow IPC file or stream/)]);
    const csv = await issues(config({ source: { format: 'csv', path: 'ragged.csv' } }));
    expect(csv).toEqual([expect.stringMatching(/^source\.path: cannot read the source's columns: .*ragged\.csv, line 3: /)]);
    // `run` passes readErrors: false, so the run fails on the same read with the source's own error and report.
    await expect(checkPipeline(config({ source: { format: 'csv', path: 'ragged.csv' } }), { file: '', baseDir: dir }, { readErrors: false })).resolves.toBeDefined();
  });

  it('follows the columns through stages that declare them: keepsColumns and outputColumns in defineStage, inputColumns checked', async () => {
    const stages = [
      { name: 'keep', module: './keeps.js', mode: 'inline' },
      { name: 'decl', module: './declares.js', mode: 'inline', options: { columns: ['id', 'nmae'], drop: ['x'] } },
      { name: 'decl2', module: './declares.js', mode: 'inline', options: { columns: ['extra', 'x'] } },
    ];
    const found = await issues(config({ stages, sink: { format: 'parquet', path: 'out', partitionBy: ['day', 'extr'] } }));
    expect(found).toEqual([
      `stages[1].options.columns[1]: column "nmae" is not in the source (columns: id, name, day, x; did you mean "name"?); read from ${at('in.csv')}`,
      'stages[2].options.columns[1]: column "x" is not among the columns stage "decl" passes on (id, name, day, extra; did you mean "id"?)',
      'sink.partitionBy[1]: column "extr" is not among the columns stage "decl2" passes on (id, name, day, extra; did you mean "extra"?)',
    ]);
  });

  it('notes what it could not check past a stage that says nothing of its columns, so silence means checked', async () => {
    const stages = [
      { name: 'opaque', module: './stage.js', mode: 'inline' },
      { name: 'decl', module: './declares.js', mode: 'inline', options: { columns: ['anything'] } },
    ];
    const checked = await checkPipeline(config({ stages, sink: { format: 'parquet', path: 'out', partitionBy: ['whatever'] } }), { file: '', baseDir: dir });
    expect(checked.notes.map((n) => `${n.path}: ${n.message}`)).toEqual([
      'stages[1].options.columns: columns not checked: stage "opaque" before it may change the columns (declare keepsColumns: true or outputColumns() in its defineStage)',
      'sink.partitionBy: partition columns not checked: stage "opaque" before it may change the columns (declare keepsColumns: true or outputColumns() in its defineStage)',
    ]);
    const plain = await checkPipeline(config({ stages: [], sink: { format: 'parquet', path: 'out', partitionBy: ['day'] } }), { file: '', baseDir: dir });
    expect(plain.notes).toEqual([]);
  });

  it('names a declaration that throws, returns no list or has the wrong type, with the rest', async () => {
    const found = await issues(
      config({
        stages: [
          { name: 'a', module: './declares-badly.js', mode: 'inline' },
          { name: 'b', module: './declares.js', mode: 'inline', options: { columns: 'id' } },
          { name: 'c', module: './bad-declarations.js', mode: 'inline' },
        ],
      }),
    );
    expect(found).toEqual([
      "stages[0].options: the stage's inputColumns(options) threw: no options.columns",
      'stages[0].module: the stage\'s outputColumns(input, options) must return a list of column names, got "day"',
      'stages[1].options.columns: must be a list of column names (the stage\'s inputColumns says it names columns), got "id"',
      `stages[2].module: the default export of ${at('bad-declarations.js')}: keepsColumns must be true or false, got "yes"`,
    ]);
  });
});

describe('onConfig: the moment `run` starts the stage copies', () => {
  it('is called once the config is valid by its schema, before the stage and column checks, which still report', async () => {
    const seen: string[] = [];
    // The column check fails after onConfig: the copies started early are then the run's to stop.
    const failing = checkPipeline(config({ source: { format: 'csv', path: 'in.csv', columns: ['nope'] } }), { file: 'p.ts', baseDir: dir }, { onConfig: (v) => void seen.push(v.config.name) });
    await expect(failing).rejects.toThrow(/column "nope" is not in the source/);
    expect(seen).toEqual(['p']);
  });

  it('the checks wait for what it returns (the copies\' launch needs the event loop before they hold it)', async () => {
    const bad = () => config({ source: { format: 'csv', path: 'in.csv', columns: ['nope'] } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let settled = false;
    const gated = checkPipeline(bad(), { file: 'p.ts', baseDir: dir }, { onConfig: () => gate }).catch(() => (settled = true));
    // The same checks, not gated, run to their end twice meanwhile; the gated ones may not.
    for (let i = 0; i < 2; i++) await expect(checkPipeline(bad(), { file: 'p.ts', baseDir: dir }, { onConfig: () => undefined })).rejects.toThrow(/nope/);
    expect(settled).toBe(false);
    release();
    await gated;
    expect(settled).toBe(true);
  });

  it('is not called when the schema or a param fails', async () => {
    const seen: string[] = [];
    await expect(checkPipeline(config({ stages: [{ name: 'one', module: './stage.js', mode: 'sideways' }] }), { file: 'p.ts', baseDir: dir }, { onConfig: () => void seen.push("called") })).rejects.toThrow(ConfigError);
    await expect(checkPipeline(config({ params: { day: { type: 'date' } } }), { file: 'p.ts', baseDir: dir, set: ['day=yesterday'] }, { onConfig: () => void seen.push("called") })).rejects.toThrow(ConfigError);
    expect(seen).toEqual([]);
  });
});
