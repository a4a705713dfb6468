/**
 * Doc comments survive the derivation of the config types from the schema: a user writing
 * `pipeline.config.ts` with `definePipeline` from 'sluice' sees each key's doc comment in
 * the editor. Asked of TypeScript's language service (what editors use) for every key the
 * schema has, so a key added without a doc comment fails here.
 */
import path from 'node:path';
import ts from 'typescript';
import { channelSchema, deadLetterSchema, pipelineSchema, sinkSchema, sourceSchema, stageSchema } from '../../../src/config/schema';
import * as D from '../../../src/defaults';

const REPO = path.resolve(__dirname, '../../..');
// Virtual (never written), beside the tests, so 'sluice' resolves to this package (self-reference).
const probeFile = (name: string) => path.join(REPO, `test/fixtures/docs-probe-${name}.config.ts`);

type Shape = { shape: object };
const keysOf = (schema: Shape) => Object.keys(schema.shape);
const NESTED: Record<string, Record<string, Shape>> = { '': { source: sourceSchema, sink: sinkSchema, channel: channelSchema, deadLetter: deadLetterSchema }, 'stages[].': { channel: channelSchema } };

/**
 * A config text, built piece by piece so the offset of every key (`source.delimiter`) and of
 * every object's opening brace is known. `full`: every key written (for hover); otherwise
 * every object left empty (for completions, which offer only the keys not yet written).
 */
function probe(full: boolean) {
  const keys = new Map<string, number>();
  const braces = new Map<string, number>();
  let text = "import { definePipeline } from 'sluice';\nexport default definePipeline(";
  const object = (where: string, schema: Shape) => {
    braces.set(where, text.length + 1);
    text += '{ ';
    if (full || where === '') {
      for (const key of keysOf(schema)) {
        keys.set(`${where}${key}`, text.length);
        text += `${key}: `;
        const nested = NESTED[where]?.[key];
        if (key === 'stages' && where === '') {
          text += '[';
          object('stages[].', stageSchema);
          text += ']';
        } else if (nested) object(`${where}${key}.`, nested);
        else text += 'undefined as never';
        text += ', ';
      }
    }
    text += '}';
  };
  object('', pipelineSchema);
  text += ');\n';
  return { text, keys, braces };
}

/**
 * One language service over every virtual file the tests ask about: one program, so the lib
 * and sluice's declaration files are parsed and checked once, not once per test
 * (a service of its own per test cost ~4 CPU-s each).
 */
function service(files: Map<string, string>): ts.LanguageService {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(REPO, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  return ts.createLanguageService({
    getScriptFileNames: () => [...files.keys()],
    getScriptVersion: () => '1',
    getScriptSnapshot: (f) => (files.has(f) ? ts.ScriptSnapshot.fromString(files.get(f)!) : ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f)!) : undefined),
    getCurrentDirectory: () => REPO,
    getCompilationSettings: () => config.options,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => files.has(f) || ts.sys.fileExists(f),
    readFile: (f) => files.get(f) ?? ts.sys.readFile(f),
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  });
}

const text = (parts: ts.SymbolDisplayPart[] | undefined) => ts.displayPartsToString(parts).trim();

/** What the docs of each key must state, from defaults.ts (third test), in a probe of their own. */
const n = (v: number) => v.toLocaleString('en-US').replace(/,/g, ' ');
const mib = (v: number) => `${v / 1024 / 1024} MiB`;
const expected: Record<string, string> = {
  'source.batchRows': `Default ${n(D.BATCH_ROWS)}.`,
  'source.inferRows': `Default ${n(D.CSV_INFER_ROWS)}.`,
  'source.delimiter': `Default \`${D.CSV_DELIMITER}\`.`,
  'source.quote': `Default \`${D.CSV_QUOTE}\`.`,
  'source.header': `Default ${D.CSV_HEADER}.`,
  'source.maxRowBytes': `Default ${mib(D.MAX_ROW_BYTES)}, at most ${D.MAX_ROW_BYTES_LIMIT / 1024 ** 3} GiB.`,
  'stage.concurrency': `Default ${D.STAGE_CONCURRENCY}.`,
  'channel.capacity': `Default ${D.CHANNEL_CAPACITY}.`,
  'channel.capacityBytes': `Default ${mib(D.CHANNEL_CAPACITY_BYTES)}.`,
  'sink.mode': `Default \`${D.SINK_MODE}\`.`,
  'sink.compression': `Default \`${D.PARQUET_COMPRESSION}\`.`,
  'sink.rowGroupSize': `Default ${n(D.PARQUET_ROW_GROUP_ROWS)} (polars' own); at most ${n(D.PARQUET_MAX_ROW_GROUP_ROWS)}`,
  'sink.maxOpenFiles': `Default ${D.MAX_OPEN_FILES}.`,
  'pipeline.ordered': `(default ${D.ORDERED})`,
};
const types: Record<string, string> = { source: 'SourceConfig', stage: 'StageConfig', channel: 'ChannelConfig', sink: 'SinkConfig', pipeline: 'PipelineConfig' };
const lines = ["import type { ChannelConfig, PipelineConfig, SinkConfig, SourceConfig, StageConfig } from 'sluice';"];
for (const [name, type] of Object.entries(types)) lines.push(`declare const ${name}: ${type};`);
const defaultsAt = new Map<string, number>();
for (const key of Object.keys(expected)) {
  defaultsAt.set(key, lines.join('\n').length + 1 + key.indexOf('.') + 1);
  lines.push(`${key};`);
}

const HOVER = probeFile('hover');
const COMPLETE = probeFile('complete');
const DEFAULTS = probeFile('defaults');
const hoverProbe = probe(true);
const completeProbe = probe(false);
const ls = service(new Map([
  [HOVER, hoverProbe.text],
  [COMPLETE, completeProbe.text],
  [DEFAULTS, lines.join('\n')],
]));

it('hovering a key written in definePipeline shows its doc comment (outside the stages list)', () => {
  const { keys } = hoverProbe;
  const undocumented: string[] = [];
  for (const [key, at] of keys) {
    // Inside the stages array the editor shows the literal's own key (no docs) under the
    // `const` type parameter; completions there carry the docs (next test).
    if (key.startsWith('stages[].')) continue;
    const info = ls.getQuickInfoAtPosition(HOVER, at);
    if (!text(info?.documentation)) undocumented.push(key);
  }
  expect(undocumented).toEqual([]);
  expect(text(ls.getQuickInfoAtPosition(HOVER, keys.get('source.delimiter')!)?.documentation)).toBe('CSV: field delimiter, one character. Default `,`.');
}, 60_000);

it('completing a key in every object of a config offers every schema key, each with its doc comment', () => {
  const { braces } = completeProbe;
  const empty = hoverProbe.keys; // every key path there is
  const missing: string[] = [];
  for (const [where, at] of braces) {
    if (where === '') continue; // the top object is written out (its values are the objects below)
    const offered = new Set(ls.getCompletionsAtPosition(COMPLETE, at, {})?.entries.map((e) => e.name));
    for (const key of [...empty.keys()].filter((k) => k.startsWith(where) && !k.slice(where.length).includes('.'))) {
      const name = key.slice(where.length);
      const docs = offered.has(name) ? text(ls.getCompletionEntryDetails(COMPLETE, at, name, {}, undefined, undefined, undefined)?.documentation) : '';
      if (!docs) missing.push(key);
    }
  }
  expect(missing).toEqual([]);
  expect([...braces.keys()].sort()).toEqual(['', 'channel.', 'deadLetter.', 'sink.', 'source.', 'stages[].'].sort());
}, 60_000);

it('the defaults the docs state are the ones defaults.ts holds', () => {
  const docs = Object.fromEntries([...defaultsAt].map(([key, pos]) => [key, text(ls.getQuickInfoAtPosition(DEFAULTS, pos)?.documentation)]));
  for (const [key, says] of Object.entries(expected)) expect({ key, docs: docs[key] }).toEqual({ key, docs: expect.stringContaining(says) });
}, 60_000);
