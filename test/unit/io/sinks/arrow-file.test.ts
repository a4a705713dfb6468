/**
 * The Arrow sink's file is the format's file: the magic, then the whole streaming format
 * (schema first, dictionaries, batches, end-of-stream), then the footer. apache-arrow's own file
 * writer leaves the schema message out (src/io/sinks/writers/arrow.ts). Read by polars (a
 * decoder of its own): as a stream past the magic, and by its footer; and by apache-arrow.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Table, Utf8, tableFromIPC, vectorFromArray } from 'apache-arrow';
import pl from 'nodejs-polars';
import { openSink } from '../../../../src/io/sinks';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-arrow-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('opens front to back as a stream (schema first) and by its footer, with every row', async () => {
  const file = path.join(dir, 'out.arrow');
  const sink = await openSink({ format: 'arrow', path: file });
  const parts = [0, 1].map(
    (p) =>
      new Table({
        id: vectorFromArray(Int32Array.from([p * 2, p * 2 + 1])),
        city: vectorFromArray(['Lyon', p ? 'Oslo' : 'Lyon'], new Utf8()),
        x: vectorFromArray(Float64Array.from([p + 0.5, p + 1.5])),
      }).batches[0],
  );
  for (const [seq, b] of parts.entries()) await sink.write(b, { seq });
  await sink.commit();
  const bytes = readFileSync(file);
  const expected = [
    { id: 0, city: 'Lyon', x: 0.5 },
    { id: 1, city: 'Lyon', x: 1.5 },
    { id: 2, city: 'Lyon', x: 1.5 },
    { id: 3, city: 'Oslo', x: 2.5 },
  ];
  expect(bytes.subarray(0, 6).toString()).toBe('ARROW1');
  expect(pl.readIPCStream(bytes.subarray(8)).toRecords()).toEqual(expected); // fails without the schema message
  expect(pl.readIPC(bytes).toRecords()).toEqual(expected);
  expect(tableFromIPC(bytes).toArray().map((r) => r.toJSON())).toEqual(expected);
});
