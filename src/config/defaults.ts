/**
 * What a config means where it says nothing, for the values more than one part of sluice
 * must agree on (the schema checks them, the plan decides by them, io applies them).
 */

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

/** Parquet rows per row group (`sink.rowGroupSize`): polars' own default. */
export const PARQUET_ROW_GROUP_ROWS = 262_144;

/**
 * polars' eager writer cuts a frame of H rows into floor(H / 512²) row groups, so it keeps
 * a frame as one row group only below 2 × 512² rows (its streaming sink, the only other
 * writer, takes at most 32 767 rows a group in 0.24.1).
 */
export const PARQUET_MAX_ROW_GROUP_ROWS = 2 * 262_144 - 1;
