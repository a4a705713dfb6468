/**
 * test/fixtures/sinks/commit-two.ts on the built sluice: the same two sinks (a Parquet file
 * and a CSV directory partitioned by g), the same batch, the same commit, stopped where
 * SLUICE_TEST_STOP_AT says. commit-crash.test.ts starts it 12 times: from src/ each start
 * loads the TS loader and compiles the sinks (measured ~1.4 CPU-s a start), from dist/ it
 * does not (~0.3). Used only while dist/ is the build of src/ as it is (the test passes
 * SLUICE_TEST_BUILT_COPIES, set by jest.config.js on that condition), so the code is the same.
 * Plain CommonJS, as an embedded run loads sluice: the package's own apache-arrow.
 * Usage: node this.cjs <dist> <file target> <directory target>
 */
const path = require('node:path');
const { tableFromArrays } = require('apache-arrow');

async function main() {
  const [built, file, dir] = process.argv.slice(2);
  const { commitTogether, openSinks } = require(path.join(built, 'io/sinks/index.js'));
  const xs = [10, 11, 12];
  const batch = tableFromArrays({ x: Int32Array.from(xs), g: xs.map((x) => (x % 2 ? 'a' : 'b')) }).batches[0];
  const sinks = await openSinks([
    { format: 'parquet', path: file },
    { format: 'csv', path: dir, partitionBy: ['g'] },
  ]);
  for (const sink of sinks) await sink.write(batch, { seq: 0 });
  try {
    await commitTogether(sinks);
  } catch (err) {
    // commitTogether leaves the teardown to its caller (a run's: runtime/teardown.ts).
    for (const sink of [...sinks].reverse()) await sink.abort();
    throw err;
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
