/**
 * Keyed routing's split done by a producer (a thread stage's copy, the source thread, a process
 * stage's child) for the keyed stage it feeds: what it is asked, and what it answers beside its
 * output. Plain data: it crosses threads by postMessage and processes in a frame header.
 */

/** Split each output batch by `key` into one part per copy of the keyed reader (`copies` of them). */
export interface SplitOut {
  /** The keyed stage the parts are for (a failure to cut is its error, as when main cuts). */
  stage: string;
  key: string[];
  copies: number;
}

/** The output is the parts: `copyOf[i]` is the copy batch i goes to (ascending). */
export interface SplitDone {
  copyOf: number[];
  /** Bytes the split copied (rows taken into parts; 0 when each batch went to one copy whole). */
  copiedBytes: number;
  /** Where it ran: node:worker_threads' threadId (a thread) or the child's pid (a process). */
  threadId?: number;
  pid?: number;
}
