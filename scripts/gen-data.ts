/**
 * Writes a realistic transactions CSV for the example pipeline and the benchmarks.
 *   npm run gen-data -- --rows 10000000 --out data/big/transactions.csv [--seed 42] [--days 7]
 * Deterministic for a given seed. Includes the awkward parts of real exports: quoted
 * fields with commas, doubled quotes and newlines, ids with leading zeros, dirty country codes.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { rng } from './rng';

const MERCHANTS = ['Acme Books', 'Blue Bottle', '"Smith, Jones & Co"', 'Corner Shop', 'Nordic Rail', 'Fuel4U', '"The ""Best"" Pizza"', 'CloudHost', 'Pharma Plus', 'City Parking'];
const COUNTRIES = ['DE', 'FR', 'NL', 'ES', 'IT', 'PL', 'SE', ' de', 'fr ', 'GB', 'US', 'AT'];
const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'GBP'];
const STATUSES = ['settled', 'settled', 'settled', 'settled', 'settled', 'settled', 'refunded', 'declined', 'test'];
const NOTES = ['', '', '', '', '', '', 'gift', '"paid, partly"', '"line one\nline two"', '"said ""hi"""'];
const FIRST = ['anna', 'ben', 'chen', 'dara', 'eli', 'fatima', 'goran', 'hana', 'ivan', 'jules'];

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export async function generate(opts: { rows: number; out: string; seed: number; days: number }): Promise<void> {
  mkdirSync(path.dirname(opts.out), { recursive: true });
  const out = createWriteStream(opts.out, { highWaterMark: 1 << 20 });
  const r = rng(opts.seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  out.write('txn_id,ts,customer_id,email,merchant,country,amount,currency,status,note\n');
  const customers = Math.max(10, Math.floor(opts.rows / 20));
  let chunk = '';
  for (let i = 1; i <= opts.rows; i++) {
    const c = Math.floor(r() * customers);
    const sec = Math.floor(r() * 86400);
    const day = 18 + Math.floor(r() * opts.days);
    const ts = `2026-11-${pad(day, 2)} ${pad(Math.floor(sec / 3600), 2)}:${pad(Math.floor(sec / 60) % 60, 2)}:${pad(sec % 60, 2)}`;
    const amount = (Math.floor(r() * 50000) / 100 + 0.5).toFixed(2);
    chunk += `${i},${ts},${pad(c, 8)},${FIRST[c % 10]}.${c}@example.com,${pick(MERCHANTS)},${pick(COUNTRIES)},${amount},${pick(CURRENCIES)},${pick(STATUSES)},${pick(NOTES)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
}

if (require.main === module) {
  const argv = yargs(hideBin(process.argv))
    .option('rows', { type: 'number', default: 1_000_000, describe: 'rows to write' })
    .option('out', { type: 'string', default: 'data/big/transactions.csv' })
    .option('seed', { type: 'number', default: 42 })
    .option('days', { type: 'number', default: 7 })
    .strict()
    .parseSync();
  const t0 = Date.now();
  generate({ rows: argv.rows, out: argv.out, seed: argv.seed, days: argv.days }).then(
    () => console.error(`wrote ${argv.rows} rows to ${argv.out} in ${Date.now() - t0} ms`),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
