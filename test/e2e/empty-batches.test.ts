/**
 * A batch a stage filters down to zero rows travels on like any other: the example job with a
 * batch of test transactions only (clean drops them all; pseudonymise and aggregate then see an
 * empty batch in a thread and a child). It failed in the hand-off ("reading 'buffer'"/"'map'"):
 * ctx.strings() read buffers an empty Utf8View does not have, and apache-arrow's Table of
 * empty vectors is malformed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, runCli } from '../helpers/cli';
import { duckRows } from '../helpers/duckdb';
import { workspace } from '../helpers/workspace';

it('the example job runs through a batch that clean filters to zero rows', async () => {
  const ws = workspace();
  try {
    const header = 'txn_id,ts,customer_id,email,merchant,country,amount,currency,status,note';
    const line = (id: number, status: string) => `${id},2026-11-23 10:00:00,0000060${id},a@x.org,M,se,1.5,EUR,${status},`;
    writeFileSync(path.join(ws.dir, 'in.csv'), [header, line(1, 'settled'), line(2, 'test'), line(3, 'test'), line(4, 'settled')].join('\n') + '\n');
    const stage = (name: string) => path.join(REPO, 'stages', `${name}.ts`);
    const config = ws.config({
      name: 'empty-batch',
      source: { format: 'csv', path: 'in.csv', batchRows: 1 },
      stages: [
        { name: 'clean', module: stage('clean'), mode: 'inline' },
        { name: 'pseudonymise', module: stage('pseudonymise'), mode: 'thread', options: { salt: 's', columns: ['customer_id'], drop: ['email'] } },
        { name: 'aggregate', module: stage('aggregate'), mode: 'process' },
      ],
      sink: { format: 'parquet', path: 'out/totals.parquet' },
    });
    const r = await runCli(['run', config, '--quiet', '--log-level', 'error']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = await duckRows(`SELECT country, transactions, customers FROM '${path.join(ws.dir, 'out/totals.parquet')}'`);
    expect(rows).toEqual([{ country: 'SE', transactions: 2, customers: 2 }]);
  } finally {
    ws.cleanup();
  }
});
