/**
 * The config types users see (exported by the package) are the schema's own types, so the
 * validator and the types cannot disagree. Checked by tsc (part of `npm test`): this file
 * does not compile if a type drifts from the schema, and each `@ts-expect-error` line must
 * be an error, or tsc says the directive is unused.
 */
import type { z } from 'zod';
import { channelSchema, pipelineSchema, sinkSchema, sourceSchema, stageSchema } from '../../../src/config/schema';
import { validateConfig } from '../../../src/config/validate';
import { definePipeline, type ChannelConfig, type ColumnTypeName, type CsvSourceOptions, type PipelineConfig, type SinkConfig, type SourceConfig, type StageConfig, type StageMode } from '../../../src/index';
import { assertType, type Equal } from '../../helpers/types';

// The public types are exactly what the schema accepts (input) and returns (output): with no
// transform or default in the schema the two are one type, so validateConfig's result needs no cast.
assertType<Equal<PipelineConfig, z.input<typeof pipelineSchema>>>();
assertType<Equal<PipelineConfig, z.output<typeof pipelineSchema>>>();
assertType<Equal<SourceConfig, z.input<typeof sourceSchema>>>();
assertType<Equal<SourceConfig, z.output<typeof sourceSchema>>>();
assertType<Equal<StageConfig, z.input<typeof stageSchema>>>();
assertType<Equal<StageConfig, z.output<typeof stageSchema>>>();
assertType<Equal<SinkConfig, z.input<typeof sinkSchema>>>();
assertType<Equal<SinkConfig, z.output<typeof sinkSchema>>>();
assertType<Equal<ChannelConfig, z.input<typeof channelSchema>>>();
assertType<Equal<ChannelConfig, z.output<typeof channelSchema>>>();
assertType<Equal<ReturnType<typeof validateConfig>, PipelineConfig>>();
assertType<Equal<PipelineConfig['source'], SourceConfig>>();
assertType<Equal<PipelineConfig['stages'][number], StageConfig>>();
assertType<Equal<PipelineConfig['sink'], SinkConfig | undefined>>();
assertType<Equal<PipelineConfig['sinks'], SinkConfig[] | undefined>>();
assertType<Equal<NonNullable<PipelineConfig['channel']>, ChannelConfig>>();

// The named parts users import keep their meaning.
assertType<Equal<StageMode, 'inline' | 'thread' | 'process'>>();
assertType<Equal<ColumnTypeName, 'utf8' | 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'float32' | 'float64' | 'date' | 'datetime' | 'timestamp'>>();
assertType<Equal<keyof CsvSourceOptions, 'delimiter' | 'quote' | 'header' | 'nullValues' | 'encoding' | 'inferRows'>>();
assertType<Equal<CsvSourceOptions['delimiter'], string | undefined>>();
assertType<Equal<SourceConfig['path'], string | string[]>>();
assertType<Equal<StageConfig['options'], Record<string, unknown> | undefined>>();
assertType<Equal<SinkConfig['mode'], 'overwrite' | 'error-if-exists' | 'append' | undefined>>();
assertType<Equal<keyof PipelineConfig, 'name' | 'source' | 'stages' | 'sink' | 'sinks' | 'deadLetter' | 'maxErrors' | 'channel' | 'ordered' | 'resumable' | 'params'>>();
assertType<Equal<StageConfig['onError'], 'fail' | 'skip' | 'dead-letter' | undefined>>();
assertType<Equal<PipelineConfig['maxErrors'], number | string | undefined>>();

const good = {
  name: 'typed',
  source: { format: 'csv', path: ['a.csv', 'b/*.csv'], delimiter: ';', schema: { zip: 'utf8' }, thread: true },
  stages: [{ name: 'hash', module: './hash.ts', mode: 'thread', concurrency: 2, options: { salt: 'x' }, channel: { capacity: 2 } }],
  sink: { format: 'parquet', path: 'out.parquet', compression: 'zstd', rowGroupSize: 1000 },
  ordered: false,
} satisfies PipelineConfig;
// definePipeline returns its argument with its literal types (a `const` type parameter).
assertType<Equal<ReturnType<typeof definePipeline<Record<never, never>, typeof good>>, typeof good>>();

const bad = {
  // @ts-expect-error an unknown stage mode
  wrongMode: { name: 's', module: './s.ts', mode: 'worker' } satisfies StageConfig,
  // @ts-expect-error concurrency is a number
  wrongConcurrency: { name: 's', module: './s.ts', mode: 'inline', concurrency: '2' } satisfies StageConfig,
  // @ts-expect-error an unknown key (the schema is strict; so are the types for literals)
  unknownKey: { format: 'csv', path: 'a.csv', delimeter: ';' } satisfies SourceConfig,
  // @ts-expect-error a column type the schema does not know
  wrongColumnType: { format: 'csv', path: 'a.csv', schema: { a: 'string' } } satisfies SourceConfig,
  // @ts-expect-error a sink needs a path
  missingPath: { format: 'csv' } satisfies SinkConfig,
  // @ts-expect-error only UTF-8 is read
  wrongEncoding: { format: 'csv', path: 'a.csv', encoding: 'latin1' } satisfies SourceConfig,
};

it('what the types accept, the schema accepts; what they refuse, it refuses', () => {
  expect(validateConfig(good)).toEqual(good);
  expect(definePipeline(good)).toBe(good);
  for (const [what, stage] of Object.entries({ wrongMode: bad.wrongMode, wrongConcurrency: bad.wrongConcurrency })) {
    expect(() => validateConfig({ ...good, stages: [stage] })).toThrow(what === 'wrongMode' ? /stages\[0\]\.mode/ : /stages\[0\]\.concurrency/);
  }
  for (const source of [bad.unknownKey, bad.wrongColumnType, bad.wrongEncoding]) expect(() => validateConfig({ ...good, source })).toThrow(/source\./);
  expect(() => validateConfig({ ...good, sink: bad.missingPath })).toThrow(/sink\.path/);
});
