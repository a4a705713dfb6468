/**
 * What a config means where it says nothing, and the figures more than one part of sluice
 * must agree on: the schema checks against them, the plan decides by them (and sizes the
 * memory bound with them), io and the executors apply what the plan decided. The one place
 * for them: it imports nothing, so every layer may import it (lint/layers.cjs).
 */

// ── source ──────────────────────────────────────────────────────────────────────────────

/** Rows per batch (`source.batchRows`). */
export const BATCH_ROWS = 65_536;

/**
 * Most rows per batch a Parquet or Arrow source hands on whole to a chain of `vectorised`
 * inline stages (plan/chain-batch.ts): its row groups or record batches, cut only above this.
 */
export const VECTORISED_BATCH_ROWS = 1_048_576;

/** CSV: field delimiter, quote character and header line (`source.delimiter`, `quote`, `header`). */
export const CSV_DELIMITER = ',';
export const CSV_QUOTE = '"';
export const CSV_HEADER = true;

/** CSV: rows sampled to fix the column types (`source.inferRows`). */
export const CSV_INFER_ROWS = 10_000;

/**
 * CSV: most bytes of text parsed at once. A chunk of rows (a batch's worth, or a row group
 * in a direct conversion) ends early when its rows are this wide, so memory stays bounded
 * whatever the row width; the rows sampled for inference are never cut short.
 */
export const CSV_MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * CSV and NDJSON: the longest row (line) read, in bytes (`source.maxRowBytes`). A longer one
 * is an error as soon as that much of it is read, so one huge line (a lost quote, a binary
 * file) never fills memory. The same as the chunk cap: a row that fits is one chunk at most.
 */
export const MAX_ROW_BYTES = CSV_MAX_CHUNK_BYTES;

/** The most `source.maxRowBytes` may be: the scanners count bytes in 32-bit integers. */
export const MAX_ROW_BYTES_LIMIT = 1024 * 1024 * 1024;

/** Batches a source thread parses ahead: one to hand over at once, one in the making. */
export const SOURCE_READ_AHEAD = 2;
/**
 * Below this much input the source reads on the main thread even when a stage runs inline:
 * a thread of its own costs about a quarter of a second of CPU to start (apache-arrow, polars,
 * the CSV code) on a machine whose cores are busy starting the stages' copies, more than
 * parsing so little saves. Measured on the example job (2 MB CSV, 2 cores): 0.89× the wall time
 * and 0.83× the CPU without it (15 interleaved pairs).
 */
export const SOURCE_THREAD_MIN_INPUT_BYTES = 16 * 1024 * 1024;

// ── channels and stages ─────────────────────────────────────────────────────────────────

/** Batches per channel (`channel.capacity`): enough to keep every copy fed while the neighbour works. */
export const CHANNEL_CAPACITY = 4;

/** Bytes per channel (`channel.capacityBytes`): a cap on top, so wide batches cannot multiply memory by four. */
export const CHANNEL_CAPACITY_BYTES = 64 * 1024 * 1024;

/** Copies of a stage (`stages[].concurrency`). */
export const STAGE_CONCURRENCY = 1;

/**
 * Tasks one copy holds at once, by mode. The plan reads it once per stage (`slotsPerCopy`)
 * and counts those tasks' inputs in the memory bound; the executors take the plan's figure.
 * A process child pipelines two frames (the next batch streams in while one computes); a
 * thread or inline copy runs one task at a time.
 */
export const SLOTS_PER_COPY: Readonly<Record<'inline' | 'thread' | 'process', number>> = { inline: 1, thread: 1, process: 2 };

/** Keep output in input order (`ordered`). */
export const ORDERED = true;

// ── sink ────────────────────────────────────────────────────────────────────────────────

/** What to do when the output exists (`sink.mode`). */
export const SINK_MODE = 'overwrite';

/** Parquet compression (`sink.compression`). */
export const PARQUET_COMPRESSION = 'zstd';

/** Parquet rows per row group (`sink.rowGroupSize`): polars' own default. */
export const PARQUET_ROW_GROUP_ROWS = 262_144;

/**
 * polars' eager writer cuts a frame of H rows into floor(H / 512²) row groups, so it keeps
 * a frame as one row group only below 2 × 512² rows (its streaming sink, the only other
 * writer, takes at most 32 767 rows a group in 0.24.1).
 */
export const PARQUET_MAX_ROW_GROUP_ROWS = 2 * 262_144 - 1;

/** Partitioned output: the most files open at once (`sink.maxOpenFiles`). */
export const MAX_OPEN_FILES = 32;

/**
 * The Parquet encoder: rows waiting for a full row group, over all open files, are bounded by
 * this many bytes (as Arrow IPC); past it, the biggest waiting group is ended early, shorter.
 * Counted in the plan's memory bound.
 */
export const PARQUET_PENDING_BUDGET_BYTES = 256 * 1024 * 1024;

/** Batches in flight to the Parquet encoder threads (one being read by each of two threads, one queued, one being copied). */
export const PARQUET_ENCODER_SLOTS = 4;

/**
 * A Parquet output of batches up to this many bytes (as Arrow IPC, all of it) is encoded on the
 * main thread, with no encoder thread started (io/parquet/encoder/pool.ts `mainThreadBytes`):
 * an aggregate's few hundred rows cost a thread ~13 MB of RSS and ~0.2 CPU-s to start, and the
 * main thread ~1 ms to encode. The first batch past it starts a thread.
 */
export const PARQUET_MAIN_THREAD_BYTES = 1024 * 1024;
/** The name of the stage sluice adds before a Parquet file sink (no user stage may take it). */
export const PARQUET_ENCODE_STAGE = 'parquet-encode';
/** The name of the stage sluice adds before a partitioned sink (no user stage may take it). */
export const PARTITION_STAGE = 'partition-by';

// ── run ─────────────────────────────────────────────────────────────────────────────────

/** How often `run()` reports progress when given `onProgress` (`progressIntervalMs`). */
export const PROGRESS_INTERVAL_MS = 250;
