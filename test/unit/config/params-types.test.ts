/**
 * The types a user writes against (checked by `tsc --noEmit`, which `npm test` runs first):
 * a path function sees each param typed from the params block, a name that is not there is
 * refused, and a default of the wrong type is refused. Each `@ts-expect-error` fails the type
 * check if the error it expects goes away.
 */
import { definePipeline, defineStage } from '../../../src/index';

const nightly = definePipeline({
  name: 'nightly',
  params: { day: { type: 'date' }, limit: 100, dry: false, region: { type: 'string', default: 'eu' } },
  source: { format: 'csv', path: ({ params }) => `in/${params.day}/${params.region.toUpperCase()}-*.csv` },
  stages: [],
  sink: { format: 'parquet', path: ({ params }) => `out/${params.day}-${params.limit.toFixed(0)}${params.dry ? '-dry' : ''}.parquet` },
});

definePipeline({
  name: 'typo',
  params: { day: { type: 'date' } },
  // @ts-expect-error: there is no param `dya`
  source: { format: 'csv', path: ({ params }) => `in/${params.dya}/*.csv` },
  stages: [],
  sink: { format: 'csv', path: 'out.csv' },
});

definePipeline({
  name: 'wrong-default',
  // @ts-expect-error: a number param's default is a number
  params: { limit: { type: 'number', default: '100' } },
  source: { format: 'csv', path: 'in.csv' },
  stages: [],
  sink: { format: 'csv', path: 'out.csv' },
});

definePipeline({
  name: 'number-is-not-string',
  params: { limit: 100 },
  // @ts-expect-error: `limit` is a number, which has no toUpperCase
  source: { format: 'csv', path: ({ params }) => params.limit.toUpperCase() },
  stages: [],
  sink: { format: 'csv', path: 'out.csv' },
});

const stage = defineStage<Record<string, unknown>, { day: string }>({
  process(batch, ctx) {
    const day: string = ctx.params.day;
    // @ts-expect-error: params are read-only
    ctx.params.day = 'x';
    return day ? batch : undefined;
  },
});

it('the typed configs are plain values', () => {
  expect(nightly.params.limit).toBe(100);
  expect(typeof nightly.source.path).toBe('function');
  expect(typeof stage.process).toBe('function');
});
