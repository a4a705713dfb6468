/**
 * A writer's file descriptor that can be let go between writes and taken again: a
 * partitioned sink keeps at most `maxOpenFiles` open, and a partition it comes back to is
 * written on in the same file (reopened for appending) rather than in a new one. Every
 * writer writes at the end of its file only, so reopening with 'a' continues it exactly.
 */
import { closeSync, openSync } from 'node:fs';

export class OutputFd {
  private current: number | undefined;

  constructor(
    readonly file: string,
    flags: 'w' | 'a',
  ) {
    this.current = openSync(file, flags);
  }

  /** The open descriptor, opened again (for appending) if suspended. */
  get fd(): number {
    return (this.current ??= openSync(this.file, 'a'));
  }

  get open(): boolean {
    return this.current !== undefined;
  }

  /** Closes the descriptor; the next use of `fd` reopens the file where it ended. */
  suspend(): void {
    this.close();
  }

  /** Closes it if open; safe to call twice. */
  close(): void {
    if (this.current === undefined) return;
    const fd = this.current;
    this.current = undefined;
    closeSync(fd);
  }
}
