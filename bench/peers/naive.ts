/**
 * The nightly job as a naive single-threaded Node script: readline + a correct quoted-CSV
 * split (fields hold quoted commas, doubled quotes and newlines), Maps for the groups.
 * Writes CSV (no Parquet writer in plain Node).
 */
import { createHash } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [input, output, salt] = process.argv.slice(2);

function split(line: string): string[] | null {
  const out: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      }
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    }
    else field += c;
  }
  if (q) return null; // the record continues on the next line
  out.push(field);
  return out;
}

(async () => {
  const groups = new Map<string, { n: number; settled: number; refunds: number; customers: Set<string> }>();
  let header: string[] | undefined;
  let pending = '';
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    const text = pending ? `${pending}\n${line}` : line;
    const f = split(text);
    if (!f) {
      pending = text;
      continue;
    }
    pending = '';
    if (!header) {
      header = f;
      continue;
    }
    const [, ts, customer, , , country, amount, currency, status] = f;
    if (status === 'test') continue;
    const key = `${ts.slice(0, 10)}|${country.trim().toUpperCase()}|${currency}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { n: 0, settled: 0, refunds: 0, customers: new Set() }));
    g.n++;
    if (status === 'settled') g.settled += Number(amount);
    if (status === 'refunded') g.refunds++;
    g.customers.add(createHash('sha256').update(salt + customer).digest('hex'));
  }
  const rows = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, g]) => `${k.split('|').join(',')},${g.n},${g.settled.toFixed(2)},${g.refunds},${g.customers.size}`);
  writeFileSync(output, `day,country,currency,transactions,settled_amount,refunds,customers\n${rows.join('\n')}\n`);
})();
