/**
 * A staged unit's file (io/units/staged-file.ts) holds exactly the bytes appended, in order,
 * whatever their sizes: around the page cache (O_DIRECT, whole aligned blocks, the last one
 * padded and cut back) and through it, written on this thread and on the staging thread
 * (io/units/staging-thread.ts), from ordinary memory and from shared memory (what stage copies
 * hand on). Appends that cross its buffers, that fill more buffers than it holds (so an append
 * waits for a write), empty ones, a file of nothing, a length that is a whole number of blocks.
 * Around the page cache an append copies: once it settles the caller may reuse its memory, and
 * the file still holds what it was.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DIRECT_BUFFER_BYTES, createStagedFile, type StagedFile } from '../../../../src/io/units/staged-file';
import { StagingThread } from '../../../../src/io/units/staging-thread';
import { workspace } from '../../../helpers/workspace';

const ws = workspace('sluice-staged-file-');
const thread = new StagingThread();
afterAll(async () => {
  await thread.close();
  ws.cleanup();
});

/** The two writers: this thread's, and the staging thread's; each from ordinary or shared memory. */
const WRITERS: [string, (file: string, direct: boolean | 'probe') => StagedFile, boolean][] = [
  ['on this thread', createStagedFile, false],
  ['on the staging thread, from ordinary memory', (file, direct) => thread.open(file, direct), false],
  ['on the staging thread, from shared memory', (file, direct) => thread.open(file, direct), true],
];

/** `bytes` as the caller hands them: a view of ordinary memory, or of a SharedArrayBuffer. */
function inMemory(bytes: Uint8Array, shared: boolean): Uint8Array {
  if (!shared) return new Uint8Array(bytes);
  const view = new Uint8Array(new SharedArrayBuffer(bytes.byteLength + 16), 16, bytes.byteLength);
  view.set(bytes);
  return view;
}

const B = DIRECT_BUFFER_BYTES;
const SHAPES: [string, number[]][] = [
  ['nothing', []],
  ['one byte', [1]],
  ['an empty append between others', [100, 0, 7]],
  ['a whole number of blocks', [4096 * 3]],
  ['exactly one buffer', [B]],
  ['appends that cross buffers', [B - 3, 10, B + 5, 4099]],
  ['more buffers than the file holds at once (an append waits for a write)', [B * 7 + 123]],
  ['many small appends', Array.from({ length: 3000 }, (_, i) => (i * 7919) % 3001)],
];

let n = 0;
async function writeShape(sizes: number[], direct: boolean | 'probe', open: (typeof WRITERS)[number][1], shared: boolean): Promise<{ file: string; expected: Buffer; wasDirect: boolean }> {
  const file = path.join(ws.dir, `f${n++}.frames`);
  const staged = open(file, direct);
  const parts = sizes.map((s) => randomBytes(s));
  for (let i = 0; i < parts.length; i += 2) await staged.append(parts.slice(i, i + 2).map((p) => inMemory(p, shared)));
  await staged.flush();
  await staged.sync();
  await staged.close();
  return { file, expected: Buffer.concat(parts), wasDirect: staged.direct };
}

describe.each(
  WRITERS.flatMap(([writer, open, shared]) => [
    [`around the page cache (O_DIRECT), written ${writer}`, 'probe' as const, open, shared] as const,
    [`through the page cache, written ${writer}`, false, open, shared] as const,
  ]),
)('a staged file %s', (_, direct, open, shared) => {
  it('is written the way asked (this filesystem takes O_DIRECT: ext4 and tmpfs do)', async () => {
    const { wasDirect } = await writeShape([10], direct, open, shared);
    expect(wasDirect).toBe(direct !== false);
  });

  it.each(SHAPES)('holds exactly the bytes appended: %s', async (_, sizes) => {
    const { file, expected } = await writeShape(sizes, direct, open, shared);
    expect(statSync(file).size).toBe(expected.length);
    expect(readFileSync(file).equals(expected)).toBe(true);
  });
});

it.each(WRITERS)('around the page cache, an append %s copies: memory reused once it settles does not change the file', async (_, open, shared) => {
  const file = path.join(ws.dir, `reuse-${n++}.frames`);
  const staged = open(file, 'probe');
  const chunk = inMemory(new Uint8Array(B + 100).fill(1), shared);
  await staged.append([chunk]);
  chunk.fill(9);
  await staged.append([chunk.subarray(0, 10)]);
  await staged.flush();
  await staged.close();
  const got = readFileSync(file);
  expect(got.length).toBe(B + 110);
  expect(got.subarray(0, B + 100).every((b) => b === 1)).toBe(true);
  expect(got.subarray(B + 100).every((b) => b === 9)).toBe(true);
});
