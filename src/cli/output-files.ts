/**
 * `--report` and `--metrics` name files written after the run. A path that cannot be written
 * (a missing directory, a file where a directory should be, no write permission) was found
 * only then: the sink had committed and the run had done its work, and the command exited 1
 * with no report. It is checked before the run starts instead, and nothing runs.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Why `file` could not be written, or undefined. The file itself need not exist. */
export function outputFileProblem(file: string): string | undefined {
  const target = path.resolve(file);
  const st = statSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) return `${target} is a directory`;
  const dir = path.dirname(target);
  const parent = statSync(dir, { throwIfNoEntry: false });
  if (!parent) return `the directory ${dir} does not exist (create it first)`;
  if (!parent.isDirectory()) return `${dir} is not a directory`;
  try {
    accessSync(st ? target : dir, constants.W_OK);
  } catch {
    return `${st ? target : dir} is not writable`;
  }
  return undefined;
}
