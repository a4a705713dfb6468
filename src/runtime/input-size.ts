/** The input files' total size, for percent done (a file gone meanwhile counts 0: the source reports it). */
import { statSync } from 'node:fs';

export function inputSize(files: readonly string[]): number {
  let total = 0;
  for (const file of files) total += statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  return total;
}
