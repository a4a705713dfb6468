/**
 * Routing rows to Hive partitions as a stage of the topology: the plan adds it before a
 * partitioned sink (and before the Parquet encoding stage, which then encodes each partition's
 * row groups apart). It splits each batch by the partition columns with polars and tags every
 * piece with its partition's path (batch/partition-tag.ts); the sink writes each piece to its
 * partition's file. On the main thread: the split is one vectorised polars call per batch.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Logger } from 'pino';
import { OwnedBatch } from '../batch/owned';
import { SinkError, type SluiceError } from '../errors';
import type { StageExecutor, TransportStats } from '../executors/types';
import { splitByPartition } from '../io/sinks/partition';
import { ROOT_PARTITION, tagPartition } from '../batch/partition-tag';
import { wellFormedEmpty } from '../batch/empty';
import type { PlannedStage } from '../plan/types';

export class PartitionExecutor implements StageExecutor {
  readonly stage: string;
  readonly mode = 'inline' as const;
  readonly copies = 1;
  readonly slots = 1;
  private readonly columns: string[];
  /** A batch's columns, kept (no rows) while no row was routed: the output without rows gets them (flush). */
  private empty: RecordBatch | undefined;
  private routed = false;

  constructor(stage: PlannedStage, _deps: { log: Logger }) {
    if (!stage.partition) throw new Error(`internal: stage "${stage.name}" is not a partitioning stage`);
    this.stage = stage.name;
    this.columns = stage.partition.columns;
  }

  async start(): Promise<void> {}

  async process(input: OwnedBatch): Promise<OwnedBatch> {
    const { seq, sourceFile } = input;
    // polars copies the rows in as it splits: the input is released right after.
    const batches = await input.consume((item) => {
      try {
        const out = item.batches.flatMap((b) => splitByPartition(b, this.columns));
        if (out.length) this.routed = true;
        else if (!this.routed && item.batches.length) this.empty = item.batches[0].slice(0, 0);
        return out;
      } catch (err) {
        throw err instanceof SinkError ? err : new SinkError(`cannot route rows to partitions by ${this.columns.join(', ')}`, err);
      }
    });
    return OwnedBatch.plain(seq, batches, sourceFile);
  }

  /**
   * No row in any partition: the output is still a dataset with the columns, so a reader of
   * a glob of the directory's files finds its schema (DuckDB, pyarrow: "no files" otherwise). One file
   * without rows at the root (ROOT_PARTITION), the partition columns in it as ordinary columns.
   */
  async flush(): Promise<OwnedBatch[]> {
    if (this.routed || !this.empty) return [];
    return [OwnedBatch.plain(0, [tagPartition(wellFormedEmpty(this.empty), ROOT_PARTITION)])];
  }

  async close(): Promise<void> {}

  async abort(): Promise<void> {}

  onFatal(_listener: (err: SluiceError) => void): void {
    // Nothing runs outside its tasks.
  }

  stats(): TransportStats {
    return { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 };
  }
}
