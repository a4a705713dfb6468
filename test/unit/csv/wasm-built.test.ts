/**
 * The committed WebAssembly modules are built from the committed C sources: each wasm folder's
 * built-from.sha256 (written by scripts/build-wasm.sh) names the source a build was made from.
 * A changed .c without a rebuild would leave the .wasm, which is what runs, doing the old thing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../../..');

it.each(['src/csv/wasm', 'src/io/sources/csv/wasm'])('%s: every .wasm is built from its .c as it is now (else run scripts/build-wasm.sh)', (dir) => {
  const recorded = readFileSync(path.join(ROOT, dir, 'built-from.sha256'), 'utf8').trim().split('\n');
  expect(recorded.length).toBeGreaterThan(0);
  for (const line of recorded) {
    const [hash, file] = line.split(/\s+/);
    expect({ file, hash: createHash('sha256').update(readFileSync(path.join(ROOT, dir, file))).digest('hex') }).toEqual({ file, hash });
    expect(readFileSync(path.join(ROOT, dir, file.replace(/\.c$/, '.wasm'))).length).toBeGreaterThan(0);
  }
});
