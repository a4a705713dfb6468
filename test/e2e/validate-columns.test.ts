/**
 * `validate` checks the column names a pipeline uses past its source, through the CLI: a
 * stage's options that name columns (`inputColumns` in defineStage) and `sink.partitionBy`,
 * following the columns through stages that say what they pass on (the example job's own
 * stages do). What it cannot check is printed as a note; `run` refuses the same issues
 * before it writes anything.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { REPO, runCli } from '../helpers/cli';
import { FIXTURE_STAGES, workspace, writeNumbersCsv, type Workspace } from '../helpers/workspace';

let ws: Workspace;
beforeAll(() => {
  ws = workspace('sluice-validate-cols-');
  writeFileSync(path.join(ws.dir, 'keeps.ts'), "import { defineStage } from 'sluice';\nexport default defineStage({ keepsColumns: true, process: (batch) => batch });\n");
  writeNumbersCsv(path.join(ws.dir, 'in.csv'), 20);
});
afterAll(() => ws.cleanup());

const stage = (name: string) => path.join(REPO, 'stages', `${name}.ts`);
const example = (options: Record<string, unknown>, partitionBy: string[], aggregate = true) =>
  ws.config(
    {
      name: 'nightly',
      source: { format: 'csv', path: path.join(REPO, 'data/transactions.csv') },
      stages: [
        { name: 'clean', module: stage('clean'), mode: 'inline' },
        { name: 'pseudonymise', module: stage('pseudonymise'), mode: 'thread', options: { salt: 's', ...options } },
        ...(aggregate ? [{ name: 'aggregate', module: stage('aggregate'), mode: 'inline' }] : []),
      ],
      sink: { format: 'parquet', path: 'out/totals', partitionBy },
    },
    'example.config.ts',
  );

it('refuses a misspelt column in a stage option and in partitionBy past the stages, in validate and run alike', async () => {
  const cfg = example({ columns: ['customer_idd'], drop: ['email'] }, ['cuntry']);
  const expected = [
    '  ✖ stages[1].options.columns[0]: column "customer_idd" is not among the columns stage "clean" passes on (txn_id, ts, customer_id, email, merchant, country, amount, currency, status, note, day; did you mean "customer_id"?)',
    '  ✖ sink.partitionBy[0]: column "cuntry" is not among the columns stage "aggregate" passes on (day, country, currency, transactions, settled_amount, refunds, customers; did you mean "country"?)',
  ];
  for (const command of ['validate', 'run']) {
    const r = await runCli([command, cfg, '--quiet'].slice(0, command === 'run' ? 3 : 2));
    expect({ command, code: r.code }).toEqual({ command, code: 1 });
    expect(r.stderr.trim().split('\n').slice(1)).toEqual(expected);
  }
  expect(ws.outFiles()).toEqual([]);
});

it('accepts the same job spelt right, checked through every stage (no note)', async () => {
  const r = await runCli(['validate', example({ columns: ['customer_id'], drop: ['email'] }, ['country'])]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('✔ config valid: nightly, 3 stage(s)\n');
});

it('a column dropped by a stage is not there for the next one', async () => {
  const r = await runCli(['validate', example({ columns: ['customer_id'], drop: ['email', 'country'] }, ['country'], false)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('sink.partitionBy[0]: column "country" is not among the columns stage "pseudonymise" passes on (txn_id, ts, customer_id, merchant, amount, currency, status, note, day)');
});

it('checks partitionBy through a stage module that declares keepsColumns, and notes what a silent stage keeps it from checking', async () => {
  const cfg = (module: string, partitionBy: string[]) =>
    ws.config({ name: 'p', source: { format: 'csv', path: 'in.csv' }, stages: [{ name: 's', module, mode: 'inline' }], sink: { format: 'csv', path: 'out/p', partitionBy } }, 'p.config.ts');
  const kept = await runCli(['validate', cfg('./keeps.ts', ['dy'])]);
  expect(kept.code).toBe(1);
  expect(kept.stderr).toContain(`sink.partitionBy[0]: column "dy" is not in the source (columns: id, name, x, day; did you mean "day"?); read from ${path.join(ws.dir, 'in.csv')}`);
  const silent = await runCli(['validate', cfg(path.join(FIXTURE_STAGES, 'e2e-transform.ts'), ['dy'])]);
  expect(silent.code).toBe(0);
  expect(silent.stdout).toBe(
    '✔ config valid: p, 1 stage(s)\nℹ sink.partitionBy: partition columns not checked: stage "s" before it may change the columns (declare keepsColumns: true or outputColumns() in its defineStage)\n',
  );
});

it('checks partitionBy when the paths are functions of params, with the defaults and with --set (as run does)', async () => {
  writeNumbersCsv(path.join(ws.dir, 'other.csv'), 5);
  const cfg = path.join(ws.dir, 'params.config.ts');
  writeFileSync(
    cfg,
    `import { definePipeline } from 'sluice';
export default definePipeline({
  name: 'by-params',
  params: { input: 'in' },
  source: { format: 'csv', path: ({ params }) => \`\${params.input}.csv\` },
  stages: [],
  sink: { format: 'parquet', path: ({ params }) => \`out/\${params.input}\`, partitionBy: ['dya'] },
});
`,
  );
  for (const args of [[], ['--set', 'input=other']]) {
    const r = await runCli(['validate', cfg, ...args]);
    expect({ args, code: r.code }).toEqual({ args, code: 1 });
    expect(r.stderr).toContain('sink.partitionBy[0]: column "dya" is not');
    expect(r.stderr).toContain('did you mean "day"?');
  }
  expect(ws.outFiles()).toEqual([]);
});
