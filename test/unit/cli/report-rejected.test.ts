/**
 * Rows taken out by `onError` show in every form of the run report: the end-of-run summary
 * (per place, action and reason, and where the dead-letter output is), OpenMetrics (per place
 * and action: a reason is free text, no label value) and the HTML report (a table, escaped).
 */
import { renderOpenMetrics } from '../../../src/cli/metrics-file';
import { renderReport } from '../../../src/cli/report';
import { renderHtmlReport } from '../../../src/cli/report-html/page';
import type { RunReport } from '../../../src/runtime/types';
import { parseOpenMetrics } from '../../helpers/openmetrics';

const report: RunReport = {
  pipeline: 'nightly',
  ok: true,
  startedAt: '2026-11-24T00:00:00.000Z',
  durationMs: 2500,
  startupMs: 500,
  source: { rows: 97, batches: 2, bytes: 4096, files: 1, busyMs: 10, blockedMs: 5 },
  stages: [
    { name: 'parse', mode: 'thread', copies: 2, rowsIn: 97, rowsOut: 95, batchesIn: 2, batchesOut: 2, bytesIn: 4096, bytesOut: 2048, busyMs: 1500, idleMs: 300, blockedMs: 200, peakInFlight: 2, waits: {}, transport: { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 }, rejected: 2 },
  ],
  sink: { rows: 95, batches: 2, bytes: 100, path: '/out/clean.parquet', files: ['/out/clean.parquet'], busyMs: 3 },
  channels: [],
  peakRssBytes: 100 << 20,
  rejected: {
    rows: 5,
    deadLetter: { name: 'deadLetter', rows: 5, batches: 1, bytes: 0, path: '/out/rejects.ndjson', files: ['/out/rejects.ndjson'], busyMs: 0 },
    counts: [
      { place: 'source', action: 'dead-letter', reason: 'expected 4 fields, found 3 (ragged row)', rows: 2 },
      { place: 'source', action: 'dead-letter', reason: 'value "abc" does not fit int64', rows: 1 },
      { place: 'parse', action: 'dead-letter', reason: 'id <17> & "x" refused', rows: 2 },
    ],
  },
};

it('the summary says how many rows were rejected, where to, and per place and reason', () => {
  const text = renderReport(report);
  expect(text).toContain('rejected 5 row(s) (onError); dead-letter output /out/rejects.ndjson (5 rows)');
  expect(text).toContain('source (dead-letter): 2 × expected 4 fields, found 3 (ragged row)');
  expect(text).toContain('parse (dead-letter): 2 × id <17> & "x" refused');
  expect(renderReport({ ...report, rejected: undefined })).not.toContain('rejected');
});

it('OpenMetrics has the rejected rows per place and action', () => {
  const samples = parseOpenMetrics(renderOpenMetrics(report)).get('sluice_rejected_rows')!.samples;
  expect(samples.map((s) => [s.labels.place, s.labels.action, s.value])).toEqual([
    ['source', 'dead-letter', 3],
    ['parse', 'dead-letter', 2],
  ]);
  expect(parseOpenMetrics(renderOpenMetrics({ ...report, rejected: undefined })).has('sluice_rejected_rows')).toBe(false);
});

it('the HTML report has a table of them, escaped', () => {
  const html = renderHtmlReport(report, []);
  expect(html).toContain('<table id="rejected">');
  expect(html).toContain('id &#60;17&#62; &#38; &#34;x&#34; refused');
  expect(html).toContain('/out/rejects.ndjson');
  expect(renderHtmlReport({ ...report, rejected: undefined }, [])).not.toContain('id="rejected"');
});
