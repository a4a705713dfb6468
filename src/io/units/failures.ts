/**
 * A resumable run's staging failed (a unit's frames written, fsynced or renamed, the manifest
 * appended, a staged unit read back at the job commit): a SinkError that names the sink and its
 * target, the unit and its input file, the file sluice was at, what the OS said and what to do,
 * instead of the OS's bare words ("ENOSPC: no space left on device, write"), which name none of
 * them. The units recorded before it stay staged: a run resumed once the cause is fixed goes on
 * from them.
 */
import { AbortedError, SinkError, SourceError, type SinkLocation } from '../../errors';
import { osAdvice } from '../sinks/failures';

/** What one staged stream is, for messages: `sink "out" (/data/out.parquet)`; where it is. */
export interface StreamLabel {
  /** How a message names the stream: `sink "out" (/data/out.parquet)`, `the dead-letter output (…)`. */
  text: string;
  sink: string;
  path: string;
}

export function sinkLabel(sink: string, target: string): StreamLabel {
  return { text: sink === 'deadLetter' ? `the dead-letter output (${target})` : `sink "${sink}" (${target})`, sink, path: target };
}

/** What to do after a staging failure: the recorded units are kept. */
const RESUME = 'once the cause is fixed, run again with --resume: the units recorded before it are not read again';

/**
 * `err` as a SinkError: "cannot <action> of unit 3 (in/f03.csv) for sink "out" (/data/out.parquet):
 * ENOSPC (the disk is full: …); staged file …/u000002.frames; <what to do>: <the OS's words>".
 * `unit` counts from 0 (the manifest's index); the message and `where` count from 1. Errors that are
 * already sluice's own (a SinkError, a source error, an abort) pass as they are.
 */
export function stagingFailure(err: unknown, action: string, label: StreamLabel | undefined, unit: number | undefined, input: string | undefined, staged: string | undefined, then = `nothing was committed; ${RESUME}`): Error {
  if (err instanceof SinkError || err instanceof SourceError || err instanceof AbortedError) return err;
  const where: SinkLocation = {
    ...(label && { sink: label.sink, path: label.path }),
    ...(unit !== undefined && { unit: unit + 1 }),
    ...(input !== undefined && { file: input }),
    ...(staged !== undefined && { staged }),
  };
  const of = unit !== undefined ? ` of unit ${unit + 1}${input !== undefined ? ` (${input})` : ''}` : '';
  const forSink = label ? ` for ${label.text}` : '';
  const at = staged !== undefined ? `; ${staged}` : '';
  return new SinkError(`cannot ${action}${of}${forSink}${osAdvice(err)}${at}; ${then}`, err, where);
}
