/**
 * The CSV later-row text check alone (csv/strict.ts), per scan, on the chunks a plain
 * conversion parses: the JavaScript reference scan, the WebAssembly scan, and polars' parse of
 * the same chunks for scale. Times are the process's CPU time, the least of 7 passes over every chunk (after one
 * warm-up): the machine is shared, and the least is what the code itself costs. The
 * WebAssembly scan's first pass is shown too: it is what a run pays, whose threads each scan a
 * few chunks with a module just compiled (a plain conversion: 262 144 rows a chunk, ~26 MB).
 *   node --import tsx bench/strict-scan.ts /tmp/transactions-2m.csv [rows, default 400000] [rows a chunk, default 65536]
 */
import { readCsvChunks } from '../src/io/sources/csv';
import { parseChunk, type CsvChunk } from '../src/csv/parse';
import { checkChunkText } from '../src/csv/strict';

async function main(): Promise<void> {
  const file = process.argv[2];
  const rows = Number(process.argv[3] ?? 400_000);
  const chunkRows = Number(process.argv[4] ?? 65_536);
  const chunks: CsvChunk[] = [];
  let read = 0;
  for await (const chunk of readCsvChunks({ file, cfg: { format: 'csv', path: file, batchRows: chunkRows }, ownChunks: true }, chunkRows)) {
    chunks.push({ ...chunk, text: Buffer.from(chunk.text) });
    read += chunk.rows;
    if (read >= rows) break;
  }
  const bytes = chunks.reduce((n, c) => n + c.text.length - c.prefixLength, 0);
  /** [first pass, least of the 7 after it] */
  const time = (fn: (c: CsvChunk) => void): [number, number] => {
    const runs: number[] = [];
    for (let r = 0; r < 8; r++) {
      const t = process.cpuUsage();
      for (const c of chunks) fn(c);
      const used = process.cpuUsage(t);
      runs.push((used.user + used.system) / 1000);
    }
    return [runs[0], Math.min(...runs.slice(1))];
  };
  const check = (scan: 'js' | 'wasm') => (c: CsvChunk) => checkChunkText(c, c.parse.check!, file, c.parse.base.sep, c.parse.base.quoteChar, scan);
  const [, js] = time(check('js'));
  const [wasmFirst, wasm] = time(check('wasm'));
  const [, parse] = time((c) => parseChunk(c, { ...c.parse, check: undefined }));
  const line = (name: string, ms: number) => console.log(`${name.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms  ${((ms * 1e6) / bytes).toFixed(2)} ns/byte`);
  console.log(`${read} rows, ${(bytes / 1e6).toFixed(1)} MB in ${chunks.length} chunks; checked columns: ${chunks[0].parse.check!.fields.map((f) => `${f.column} (${f.rule.type})`).join(', ')}`);
  line('check, JavaScript', js);
  line('check, WebAssembly', wasm);
  line('  its first pass', wasmFirst);
  line('polars parse (no check)', parse);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
