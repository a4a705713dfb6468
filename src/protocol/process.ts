/**
 * Messages between the main process and a stage's child process. Each message is the
 * small JSON header of one frame (batch/framing.ts); the bytes it carries travel as the
 * frame's payload: Arrow IPC stream bytes for batches, a structured clone (v8
 * serialize) of the options for `init`. Batch data is never JSON.
 */
import type { SplitDone, SplitOut } from './key-split';
import type { WireError } from './errors';

/** The child's file descriptor of the frame channel (stdio slot 3 of the spawn). */
export const DATA_FD = 3;

export type MainToChild =
  /**
   * First frame. Payload: v8-serialized stage options (structured clone, as in thread mode).
   * `params`: the run's params, strings, numbers and booleans only (so JSON carries them whole).
   */
  /** `splitOut`: cut each output of a task by this key for the keyed stage that reads it (plan/key-split.ts). */
  | { type: 'init'; stage: string; modulePath: string; copy: number; copies: number; logLevel: string; params: Record<string, string | number | boolean>; splitOut?: SplitOut }
  /** Payload: the input batches as Arrow IPC. */
  /** `leftOut`: the columns projection pushdown left out that the stage would have received (StageHost.leaveOut). */
  | { type: 'task'; id: number; seq: number; sourceFile?: string; leftOut?: string[] }
  | { type: 'flush'; id: number }
  /** A fresh instance of the stage's module in this child, and its setup run again (runtime/unit-partials.ts); answered by an empty `result`. */
  | { type: 'renew'; id: number }
  /** Finish queued work, then exit 0. */
  | { type: 'close' };

export type ChildToMain =
  /** The stage module loaded and ran setup; the child takes work. */
  | { type: 'ready'; pid: number }
  /** Payload: the output batches as Arrow IPC (answers `task` and `flush`). `maxRss`: the child's peak RSS so far, in bytes (for the run report). */
  /** `split`: set when the child cut a task's output for its keyed reader (`splitOut`): the copy of each record batch. */
  /**
   * `rejectedBytes`: the payload starts with that many bytes of JSON, the rows of the task's input
   * the stage rejected with `ctx.reject` (a StageReject[]; in the payload, not this header, which
   * is bounded: a stage may reject every row of a large batch); the Arrow IPC follows. Absent: none.
   */
  | { type: 'result'; id: number; maxRss?: number; split?: SplitDone; rejectedBytes?: number }
  /** A StageError (phase, stage, copy, batch) as the child threw it; `id` is absent for a failure outside a task (load, setup). */
  | { type: 'failed'; id?: number; error: WireError };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeHeader(message: MainToChild | ChildToMain): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

const MAIN_TYPES = new Set(['init', 'task', 'flush', 'renew', 'close']);
const CHILD_TYPES = new Set(['ready', 'result', 'failed']);

function decode(bytes: Uint8Array, types: Set<string>, from: string): { type: string } {
  let message: unknown;
  try {
    message = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new Error(`malformed frame header from ${from}: not JSON`);
  }
  const type = (message as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !types.has(type)) {
    throw new Error(`unexpected frame header from ${from}: ${JSON.stringify(message).slice(0, 200)}`);
  }
  return message as { type: string };
}

export function decodeMainMessage(bytes: Uint8Array): MainToChild {
  return decode(bytes, MAIN_TYPES, 'main process') as MainToChild;
}

export function decodeChildMessage(bytes: Uint8Array): ChildToMain {
  return decode(bytes, CHILD_TYPES, 'child process') as ChildToMain;
}

/**
 * Inside a child: its I/O thread owns the frame channel, so bytes keep moving both ways
 * while the stage thread computes. Payloads cross between the two threads as
 * SharedArrayBuffer ranges (by reference, never copied).
 */
export interface SharedBytes {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

/** The child's I/O thread → its stage thread. */
export type IoToStage =
  /** A frame from main; the payload lives in a slab the stage thread releases. */
  | { type: 'frame'; header: Uint8Array; payload: SharedBytes | null }
  /** Every chunk of send `id` is handed to the kernel. */
  | { type: 'written'; id: number }
  /** The channel ended (main is gone or we finished): time to exit. */
  | { type: 'closed' };

/** The child's stage thread → its I/O thread. */
export type StageToIo =
  | { type: 'send'; id: number; chunks: SharedBytes[] }
  /** End the channel once everything before is written, then report `closed`. */
  | { type: 'finish' };


/**
 * What a child writes on stderr, synchronously, as it starts a task: the task's id. If it
 * dies, however (an exit, a crash, SIGKILL), main knows the task it was running: results
 * it had finished may never have left (its I/O thread dies with it), so the oldest
 * unanswered task is not always the one that killed it.
 */
export const RUNNING_TASK = 'sluice:running-task ';
