/**
 * The folders a sink creates above its target (`out/run_date=2026-12-06/` for
 * `out/run_date=2026-12-06/data.parquet`). A failed run leaves nothing at the sink's path:
 * not the output, and not these either, or the next listing of `out/` shows a `run_date=…`
 * of a run that wrote nothing. Only folders this run created are removed, deepest first, and
 * only while empty: a folder that existed before the run, or that something else wrote into
 * meanwhile, stays.
 */
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';

export class CreatedParents {
  private constructor(private readonly created: string[]) {}

  /** Create `dir` and what is missing above it, remembering which folders were created. */
  static make(dir: string): CreatedParents {
    const missing: string[] = [];
    for (let d = path.resolve(dir); !statSync(d, { throwIfNoEntry: false }); d = path.dirname(d)) {
      missing.push(d);
      if (path.dirname(d) === d) break;
    }
    mkdirSync(dir, { recursive: true });
    return new CreatedParents(missing); // deepest first
  }

  /** Remove the created folders that are empty, deepest first; never throws. */
  removeEmpty(): void {
    for (const dir of this.created) {
      try {
        rmdirSync(dir);
      } catch {
        return; // not empty (or gone): the folders above hold it
      }
    }
  }
}
