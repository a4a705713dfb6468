/**
 * The shapes a user writes in `pipeline.config.ts`, derived from the schema that validates
 * them (schema.ts), so the two cannot drift apart: a key added there is a key here, with its
 * doc comment (editors show it on hover). Paths inside a config are relative to the config
 * file's directory. test/unit/config/types.test.ts checks at compile time that these are
 * exactly the schema's input and output types.
 *
 * Type-only imports: loading this module (for `definePipeline`) does not load zod.
 */
import type { z } from 'zod';
import type { channelSchema, COLUMN_TYPES, deadLetterSchema, pipelineSchema, sinkSchema, sourceSchema, stageSchema } from './schema';

import type { FromParams, ParamsSpec } from './params';

/** A whole pipeline: `definePipeline({ name, source, stages, sink })`. */
export interface PipelineConfig extends z.input<typeof pipelineSchema> {}

/** Where the rows come from: a file, a glob or a list of them, in one format. */
export interface SourceConfig extends z.input<typeof sourceSchema> {}

/** The CSV reading options of a source. */
export type CsvSourceOptions = Pick<SourceConfig, 'delimiter' | 'quote' | 'header' | 'nullValues' | 'encoding' | 'inferRows'>;

/** One stage: a module with `process` (and optionally `setup`/`flush`), run `inline`, on threads or in processes. */
export interface StageConfig extends z.input<typeof stageSchema> {}

/** Where the rows go. */
export interface SinkConfig extends z.input<typeof sinkSchema> {}

/** The dead-letter output: where rejected rows go (a sink without `name`/`from`/`partitionBy`). */
export interface DeadLetterConfig extends z.input<typeof deadLetterSchema> {}

/** What to do with a row that cannot be read or processed. */
export type OnError = NonNullable<StageConfig['onError']>;

/** Bounds of the channel that feeds a stage (or the sink). */
export interface ChannelConfig extends z.input<typeof channelSchema> {}

/** Where a stage runs. */
export type StageMode = StageConfig['mode'];

/** Column type names accepted in an explicit `schema` (see io/sources for the mapping). */
export type ColumnTypeName = (typeof COLUMN_TYPES)[number];

/** A sink as written: its `path` may be computed from the params. */
type SinkInput<P extends ParamsSpec> = Omit<SinkConfig, 'path'> & {
  /** Output file (or directory with partitionBy), relative to the config; or `({ params }) => …`. */
  path: FromParams<string, P>;
};

/** One output (`sink`) or several written in one pass (`sinks`), never both. */
type Outputs<S> =
  | {
      /** Where the rows go. */
      sink: S;
      sinks?: never;
    }
  | {
      sink?: never;
      /** Several outputs written in one pass, each with a `name` and the stage it writes (`from`): committed together, or none. */
      sinks: S[];
    };

/** A config as written: `source.path` and each sink's `path` may be computed from the params (`({ params }) => …`). */
export type PipelineInput<P extends ParamsSpec = ParamsSpec> = Omit<PipelineConfig, 'params' | 'source' | 'sink' | 'sinks'> & {
  /** Run parameters, set with `--set name=value`; stages read them as `ctx.params`. */
  params?: P;
  /** Where the rows come from: a file, a glob or a list of them, in one format. */
  source: Omit<SourceConfig, 'path'> & {
    /** Input file(s): a path, a glob or a list, relative to the config; or `({ params }) => …` computing them. */
    path: FromParams<string | string[], P>;
  };
} & Outputs<SinkInput<P>>;

/** A sink as an editor shows it on hover (the path left to `T`). */
type SinkDocs = Omit<SinkConfig, 'path'> & {
  /** Output file (or directory with partitionBy), relative to the config; or `({ params }) => …`. */
  path?: unknown;
};

/**
 * What an editor shows on hover: every key's doc comment (with `T` alone it shows the literal's
 * own key, which has none). The paths are left to `T`, so a path function's `params` is typed
 * from the block by inference.
 */
type DocsOf<P extends ParamsSpec> = Omit<PipelineConfig, 'params' | 'source' | 'sink' | 'sinks'> & {
  /** Run parameters, set with `--set name=value`; stages read them as `ctx.params`. */
  params?: P;
  /** Where the rows come from: a file, a glob or a list of them, in one format. */
  source: Omit<SourceConfig, 'path'> & {
    /** Input file(s): a path, a glob or a list, relative to the config; or `({ params }) => …` computing them. */
    path?: unknown;
  };
  /** Where the rows go. */
  sink?: SinkDocs;
  /** Several outputs written in one pass, each with a `name` and the stage it writes (`from`): committed together, or none. */
  sinks?: SinkDocs[];
};

/**
 * Identity function that exists for its types, like vitest's `defineConfig`. `P` is taken
 * from the `params` block, so a path function sees `params.day` typed (and a typo refused);
 * `const T` keeps the literal types of what is written.
 */
export function definePipeline<const P extends ParamsSpec = Record<never, never>, const T extends PipelineInput<P> = PipelineInput<P>>(config: T & DocsOf<P>): T {
  return config;
}
