import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The files a run published in `<dir>/out` (not the hidden staging and temporaries beside them, which a killed run leaves) → their bytes. */
export function outputBytes(dir: string): Map<string, Buffer> {
  const out = path.join(dir, 'out');
  return new Map(
    readdirSync(out, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => [e.name, readFileSync(path.join(out, e.name))]),
  );
}
