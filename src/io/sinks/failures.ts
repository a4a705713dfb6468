/**
 * A sink failure names the path the user asked for (the target), what the OS said (its
 * code) and what to do; the temporary sibling, where the bytes actually went, is detail.
 */
import { AbortedError, SinkError, SourceError } from '../../errors';
import { SIBLING_EXTRA } from '../../inputs';

const ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: free space, or write the output to another disk (sink.path or --sink-path)',
  EDQUOT: 'the disk quota is used up: free space, or write the output elsewhere (sink.path or --sink-path)',
  EROFS: 'the file system is read-only: write the output elsewhere (sink.path or --sink-path)',
  EACCES: 'permission denied: make the directory writable for this user, or write the output elsewhere',
  EPERM: 'operation not permitted: make the directory writable for this user, or write the output elsewhere',
  ENAMETOOLONG: `a name is too long: shorten sink.path (sluice writes beside the target under a hidden name ${SIBLING_EXTRA} bytes longer; partition values are names too)`,
  ENOTDIR: 'a parent of the path is a file, not a directory: choose another sink.path',
  EISDIR: 'a directory is in the way: choose another sink.path',
  EMFILE: 'too many open files: lower sink.maxOpenFiles or raise the limit (ulimit -n)',
  ENFILE: 'too many open files on this system: lower sink.maxOpenFiles',
  EIO: 'an I/O error on the device: check the disk',
  EFBIG: 'a file grew past the largest size allowed: the process\'s file-size limit (ulimit -f) or the file system\'s own',
};

/** The OS error code in `err` or its causes (ENOSPC, EROFS, …). */
export function osCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** What the OS said in `err`, with what to do: `: ENOSPC (the disk is full: …)`; or '' for a code without advice. */
export function osAdvice(err: unknown): string {
  const code = osCode(err);
  return code && ADVICE[code] ? `: ${code} (${ADVICE[code]})` : '';
}

/**
 * `err` as a SinkError that names `target`: "cannot write /out/x.csv: ENOSPC (the disk is
 * full: …); temporary file /out/.x.csv.sluice-tmp-…". Source and abort errors pass as they are.
 */
export function sinkFailure(err: unknown, action: string, target: string, temp?: string): Error {
  if (err instanceof SourceError || err instanceof AbortedError) return err;
  if (err instanceof SinkError && err.message.includes(target)) return err;
  const code = osCode(err);
  const detail = temp ? `; temporary ${temp}` : '';
  // SinkError appends the cause's own message (the OS's words, with the temporary's path).
  if (code && ADVICE[code]) return new SinkError(`cannot ${action} ${target}: ${code} (${ADVICE[code]})${detail}`, err);
  return new SinkError(`cannot ${action} ${target}${detail}`, err);
}
