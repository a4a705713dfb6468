/**
 * What reading one more small file costs: no per-file allocation sized for big files. A
 * source of 10 000 files of 50 bytes spent most of its time collecting garbage: each file got
 * a 4 MiB read buffer and a WebAssembly row scanner with 8.5 MB of memory of its own.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSource } from '../../../../src/io/sources';
import { readBytes } from '../../../../src/io/sources/bytes';
import { SimdRowScanner } from '../../../../src/io/sources/csv/simd-scan';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-per-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads a small file into a buffer its size, not one of the default read size', async () => {
  const file = path.join(dir, 'small.csv');
  writeFileSync(file, 'id,name\n1,a\n2,b\n');
  const chunks: Buffer[] = [];
  for await (const chunk of readBytes(file)) chunks.push(chunk);
  expect(Buffer.concat(chunks).toString()).toBe('id,name\n1,a\n2,b\n');
  // allocUnsafe of a few bytes comes from Node's shared 8 KiB pool; 4 MiB would be its own.
  expect(chunks[0].buffer.byteLength).toBeLessThanOrEqual(8 * 1024);
});

it('one WebAssembly row scanner and one later-row checker serve file after file (they are reused, reconfigured)', async () => {
  const d = path.join(dir, 'many');
  mkdirSync(d);
  for (let i = 0; i < 40; i++) writeFileSync(path.join(d, `f${String(i).padStart(2, '0')}.csv`), `id,name\n${i},"a;b"\n`);
  // The project's TypeScript libs leave WebAssembly's types out: the little used here.
  type InstanceCtor = new (module: object) => object;
  const wasm = (globalThis as unknown as { WebAssembly: { Instance: InstanceCtor } }).WebAssembly;
  const Instance = wasm.Instance;
  let made = 0;
  wasm.Instance = function (module: object) {
    made++;
    return new Instance(module);
  } as unknown as InstanceCtor;
  try {
    const source = await openSource({ format: 'csv', path: `${d}/*.csv`, batchRows: 10 });
    let rows = 0;
    for await (const item of source.batches()) {
      rows += item.rows;
      item.release();
    }
    expect(rows).toBe(40);
    // At most one of each module (the row scanner, the later-row text check: src/csv/strict-wasm.ts),
    // whatever the number of files; 0 when an earlier test's are free to take.
    expect(made).toBeLessThanOrEqual(2);
  } finally {
    wasm.Instance = Instance;
  }
  // A released scanner comes back configured for the next file's bytes: read with another
  // delimiter and field count, a scanner still set for the last one would find ragged rows.
  const a = SimdRowScanner.create({ delimiter: 44, quote: 34, fields: 2 })!;
  a.release();
  const semi = path.join(dir, 'semi.csv');
  writeFileSync(semi, 'id;name;v\n1;"a,b";2\n3;c;4\n');
  const source = await openSource({ format: 'csv', path: semi, batchRows: 10, delimiter: ';' });
  const rows: unknown[] = [];
  for await (const item of source.batches()) {
    rows.push(...item.batches[0].toArray().map((r) => r.toJSON()));
    item.release();
  }
  expect(rows).toEqual([{ id: 1n, name: 'a,b', v: 2n }, { id: 3n, name: 'c', v: 4n }]);
  expect(SimdRowScanner.create({ delimiter: 44, quote: 34, fields: 2 })).toBe(a); // taken and given back by that read
});
