/** CSV type inference: typed only where the value is kept exactly, text otherwise. */
import { fits, inferColumn } from '../../../../src/csv/infer';

describe('CSV type inference', () => {
  it.each([
    [['1', '-2'], 'int64'],
    [['1', '2.5'], 'float64'],
    [['0.1', '0.30000000000000004', '1e+21', '-0.0', '1.0'], 'float64'],
    [['1.5', 'NaN', 'inf', '-inf'], 'float64'],
    [['nan'], 'utf8'], // only the spellings the sinks write
    [['1234567890123456789012345678.9012345678'], 'utf8'], // float64 would round it
    [['3.14159265358979323846'], 'utf8'],
    [['1e400'], 'utf8'], // overflows float64
    [['2026-11-24', '0999-12-31', '0099-01-01', '-0001-01-01', '+10000-01-01'], 'date'],
    [['2026-02-30'], 'utf8'],
    [['2026-11-24 10:11:12', '2026-11-24 00:00:00'], 'datetime'],
    [['2026-11-24T10:11:12.123', '1969-12-31T23:59:59.999'], 'datetime'],
    [['2026-11-24T10:11:12.123456', '0999-12-31T00:00:00.000001'], 'datetime[us]'],
    [['2026-11-24T10:11:12Z', '2026-11-24T10:11:12+02:00'], 'datetime[ms, UTC]'],
    [['2026-11-24T10:11:12.123456Z'], 'datetime[us, UTC]'],
    [['2026-11-24T10:11:12.123456789Z', '1678-01-01T00:00:00.000000001+01:00'], 'datetime[ns, UTC]'],
    [['2261-12-31T23:59:59.999999999'], 'datetime[ns]'],
    [['1677-09-22T00:00:00.000000001'], 'utf8'], // whole years only: 1678–2261
    [['1500-01-01T00:00:00.000000001'], 'utf8'], // beyond int64 nanoseconds
    [['2026-11-24T10:11:12.1234'], 'utf8'], // digits other than 0/3/6/9: polars parses some shapes only
    [['2026-11-24T10:11:12.123Z', '2026-11-24T10:11:12.123'], 'utf8'], // zone and no zone
    [['2026-11-24T10:11:12', '2026-11-24 10:11:12'], 'utf8'], // two shapes polars may not parse alike
    [['10:11:12', '23:59:59.999999999'], 'time'],
    [['24:00:00'], 'utf8'],
  ])('%p → %s', (values, type) => {
    expect(inferColumn(values)).toBe(type);
    for (const v of values) if (type !== 'utf8') expect({ v, fits: fits(type as never, v) }).toEqual({ v, fits: true });
  });
});
