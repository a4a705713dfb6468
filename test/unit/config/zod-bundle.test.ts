/**
 * The built config checks use zod bundled into one file with English messages only
 * (scripts/bundle-zod.mjs). Every config below goes through the schema twice: here (src/, the
 * zod package) and in a node process running dist/ (the bundle); the issues, the parsed
 * config must come out the same.
 */
import path from 'node:path';
import { REPO, runNode } from '../../helpers/cli';
import { requireBuild } from '../../helpers/package';
import { z } from 'zod';
import { schemaIssues } from '../../../src/config/validate';

const ok = { name: 'p', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 's', module: './s.ts' }], sink: { format: 'parquet', path: 'out.parquet' } };

/** Wrong in every way the schema has a rule for: types, enums, bounds, unknown keys, unions, records, shapes. */
const CONFIGS: unknown[] = [
  ok,
  null,
  'a string',
  {},
  { ...ok, name: '' },
  { ...ok, nmae: 'typo' },
  { ...ok, source: { format: 'xlsx', path: 'in.xlsx' } },
  { ...ok, source: { format: 'csv', path: 'in.csv', batchRows: 0, thread: 'yes', maxRowBytes: 2 ** 31, delimiter: ';;' } },
  { ...ok, source: { format: 'csv' } },
  { ...ok, stages: [{ name: 's', module: './s.ts', mode: 'threads', concurrency: 1.5 }, { name: 's', module: 3 }] },
  { ...ok, stages: 'none' },
  { ...ok, sink: { format: 'parquet', path: 'o.parquet', rowGroupSize: 10 ** 6, compression: 'lzma' } },
  { ...ok, sink: [{ format: 'csv', path: 'a.csv' }, { format: 'ndjson' }] },
  { ...ok, params: { day: { default: 3, type: 'date' } }, channels: { capacity: -1 } },
  { ...ok, stages: [{ name: 's', module: './s.ts', options: { a: 1 }, key: ['k'], onError: { retry: 'x' } }] },
];

describe('the bundled zod checks configs as the package does', () => {
  beforeAll(requireBuild);

  it('every config: the same issues and the same parsed config', async () => {
    const script = `
      const { schemaIssues } = require(${JSON.stringify(path.join(REPO, 'dist/config/validate.js'))});
      const { z } = require(${JSON.stringify(path.join(REPO, 'dist/config/zod.js'))});
      if (!require.cache[${JSON.stringify(path.join(REPO, 'dist/vendor/zod.cjs'))}]) throw new Error('dist/ did not load the bundled zod');
      process.stdout.write(JSON.stringify({ configs: ${JSON.stringify(CONFIGS)}.map((c) => schemaIssues(c)), locales: Object.keys(z.locales), message: z.number().int().safeParse('x').error.issues[0].message }));`;
    const r = await runNode(['-e', script]);
    expect(r.stderr).toBe('');
    const built = JSON.parse(r.stdout) as { configs: unknown[]; locales: string[]; message: string };
    expect(built.configs).toEqual(JSON.parse(JSON.stringify(CONFIGS.map((c) => schemaIssues(c)))));
    // zod's own (English) message, where a rule of sluice's has none.
    expect(built.message).toBe(z.number().int().safeParse('x').error!.issues[0].message);
    expect(built.locales).toEqual(['en']);
  });
});
