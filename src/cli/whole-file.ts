/**
 * A file the CLI writes after a run (`--report`, `--metrics`, the cluster report): whole or not
 * at all (a temporary sibling renamed over it), and with a mode fit for what it holds. A run
 * report holds the run's params, which can come from the environment (tokens, passwords), and
 * the input and output paths: a new one is created 0600. An existing file keeps its mode, the
 * owner's choice (e.g. a report published on purpose). The metrics file holds neither params
 * nor paths and is read by a collector that often runs as another user: the usual mode (0666
 * less the umask). watcher.cjs applies the same rule to the files it writes for a dead run.
 */
import { chmodSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';

/** A new file only its owner can read (the umask may narrow it further, never widen it). */
export const PRIVATE_MODE = 0o600;
/** A new file as any program makes it (the umask decides). */
export const USUAL_MODE = 0o666;

/** `beforeRename`: called with the temporary, written whole, just before it is renamed to `file`. */
export function writeWholeFile(file: string, text: string, newMode: number, beforeRename?: (tmp: string) => void): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const existing = statSync(file, { throwIfNoEntry: false });
  const kept = existing?.isFile() ? existing.mode & 0o7777 : undefined;
  try {
    // A stale temporary (a dead run of the same pid) would keep its own mode: written anew.
    rmSync(tmp, { force: true });
    writeFileSync(tmp, text, { flag: 'wx', mode: kept ?? newMode });
    // Exactly the existing file's mode, which the umask applied at creation could have narrowed.
    if (kept !== undefined) chmodSync(tmp, kept);
    beforeRename?.(tmp);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}
