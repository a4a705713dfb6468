import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderHtmlReport } from '../../../src/cli/report-html/page';
import { depthSpec, memorySpec, rateSpec, timelineSpec } from '../../../src/cli/report-html/specs';
import { writeRunReport } from '../../../src/cli/report-html';
import { chartBundles } from '../../../src/cli/report-html/bundle';
import type { RunReport } from '../../../src/runtime/types';

const evil = '</script><script>alert(1)</script>';
const stage = (name: string, copies: number) => ({ name, mode: 'thread' as const, copies, rowsIn: 10, rowsOut: 10, batchesIn: 1, batchesOut: 1, bytesIn: 1, bytesOut: 1, busyMs: 1, idleMs: 0, blockedMs: 0, peakInFlight: 1, waits: {}, transport: { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 } });

const report: RunReport = {
  pipeline: `p ${evil}`,
  ok: false,
  startedAt: '2026-11-24T00:00:00.000Z',
  durationMs: 3000,
  startupMs: 1000,
  source: { rows: 20, batches: 2, bytes: 100, files: 1, busyMs: 1, blockedMs: 0 },
  stages: [stage('one', 1), stage(evil, 2)],
  sink: { rows: 20, batches: 2, bytes: 100, path: '/o', files: [], busyMs: 1 },
  channels: [],
  peakRssBytes: 1 << 20,
  error: { code: 'SLUICE_STAGE_FAILED', message: `boom ${evil}` },
  timeline: {
    stages: [
      { name: 'one', copies: 1, lanes: [[[1000, 1500, 'idle'], [1500, 2500, 'busy'], [2500, 3000, 'done']]], batches: [[0, 0, 1500, 2500, 10]], batchStride: 1 },
      { name: evil, copies: 2, lanes: [[[1000, 3000, 'busy']], [[1000, 3000, 'blocked']]], batches: [[0, 1, 1000, 3000, 10], [1, -1, 1000, 3000, 0]], batchStride: 1 },
    ],
    samples: {
      intervalMs: 100,
      channels: ['source→one', 'one→x', 'x→sink'],
      samples: [
        { t: 1000, sourceRows: 0, sinkRows: 0, stageRows: [0, 0], depths: [0, 0, 0], rssBytes: 10 << 20 },
        { t: 2000, sourceRows: 20, sinkRows: 10, stageRows: [10, 10], depths: [2, 1, 0], rssBytes: 20 << 20 },
      ],
    },
  },
};

describe('report charts (Vega-Lite specs)', () => {
  it('draws one lane per copy, named by stage and copy, and each batch on its lane', () => {
    const spec = timelineSpec(report) as { layer: Array<{ data: { values: Array<Record<string, unknown>> } }> };
    const [bars, batches] = spec.layer.map((l) => l.data.values);
    expect(bars).toEqual([
      { lane: 'one', start: 1, end: 1.5, state: 'idle' },
      { lane: 'one', start: 1.5, end: 2.5, state: 'busy' },
      { lane: 'one', start: 2.5, end: 3, state: 'done' },
      { lane: `${evil} #1`, start: 1, end: 3, state: 'busy' },
      { lane: `${evil} #2`, start: 1, end: 3, state: 'blocked' },
    ]);
    // a pipelined batch that never held a lane (-1) is not drawn
    expect(batches).toEqual([
      { lane: 'one', start: 1.5, end: 2.5, batch: '#0', rows: 10 },
      { lane: `${evil} #2`, start: 1, end: 3, batch: '#0', rows: 10 },
    ]);
  });

  it('derives depth per channel, rows/s between samples, and memory', () => {
    expect((depthSpec(report) as { data: { values: unknown[] } }).data.values).toContainEqual({ t: 2, channel: 'source→one', depth: 2 });
    const rates = (rateSpec(report) as { data: { values: Array<{ part: string; rate: number }> } }).data.values;
    expect(rates).toEqual([
      { t: 2, part: 'source', rate: 20 },
      { t: 2, part: 'one', rate: 10 },
      { t: 2, part: evil, rate: 10 },
      { t: 2, part: 'sink', rate: 10 },
    ]);
    expect((memorySpec(report) as { data: { values: Array<{ mib: number }> } }).data.values.map((v) => v.mib)).toEqual([10, 20]);
  });

  it('has no charts without a timeline (a report from before, or a direct conversion)', () => {
    const { timeline: _, ...bare } = report;
    expect([timelineSpec(bare), depthSpec(bare), rateSpec(bare), memorySpec(bare)]).toEqual([undefined, undefined, undefined, undefined]);
    expect(renderHtmlReport(bare, [])).not.toContain('class="chart"');
  });
});

describe('report page', () => {
  it('escapes names and messages: nothing in a run can close a script or inject markup', () => {
    const html = renderHtmlReport(report, ['/* vega */']);
    expect(html).not.toContain(evil);
    expect(html.match(/<script>/g)).toHaveLength(2); // the library and ours, no third
    expect(html).toContain('&#60;/script&#62;'); // the stage name shown as text in the table
  });

  it("shows the run's params, escaped; no table without params", () => {
    const html = renderHtmlReport({ ...report, params: { day: '2026-11-30', limit: 100, dry: false, [evil]: evil } }, []);
    const table = /<table id="params">(.*?)<\/table>/.exec(html)?.[1] ?? '';
    expect(table).toContain('<td>day</td><td>&#34;2026-11-30&#34;</td>');
    expect(table).toContain('<td>limit</td><td>100</td>');
    expect(table).toContain('<td>dry</td><td>false</td>');
    expect(html).not.toContain(evil);
    expect(renderHtmlReport({ ...report, params: {} }, [])).not.toContain('id="params"');
  });

  it('inlines the charting library, so the page needs no network', () => {
    const bundles = chartBundles();
    expect(bundles).toHaveLength(3);
    const html = renderHtmlReport(report);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    for (const b of bundles) expect(html.length).toBeGreaterThan(b.length);
    expect(html).toContain('vegaEmbed(');
  });

  it('is JSON or HTML by the file’s extension, written whole', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-report-'));
    writeRunReport(path.join(dir, 'r.json'), report);
    writeRunReport(path.join(dir, 'r.HTML'), report);
    expect(JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')).pipeline).toBe(report.pipeline);
    expect(readFileSync(path.join(dir, 'r.HTML'), 'utf8')).toMatch(/^<!doctype html>/);
    expect(readdirSync(dir).sort()).toEqual(['r.HTML', 'r.json']);
  });
});

describe('the graph in the HTML report', () => {
  it('has one row per edge: what writes it, what reads it, its bound, its peak, what passed and its credit wait', () => {
    const withEdges: RunReport = {
      ...report,
      channels: [
        { name: 'source→clean', capacity: 4, capacityBytes: 64 << 20, peakDepth: 4, peakBytes: 3 << 20, batches: 12, rows: 1200, bytes: 5 << 20, creditWaitMs: 40 },
        // a report of an older version: no figures
        { name: 'clean→sink events', capacity: 2, capacityBytes: 1 << 20, peakDepth: 1, peakBytes: 512 },
      ],
    };
    const html = renderHtmlReport(withEdges, []);
    const table = /<table id="edges">(.*?)<\/table>/.exec(html)![1];
    const rows = [...table.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<t[hd]>(.*?)<\/t[hd]>/g)].map((c) => c[1]));
    expect(rows).toEqual([
      ['from', 'to', 'bound (items)', 'peak items', 'bound (bytes)', 'peak bytes', 'batches', 'rows', 'bytes', 'credit wait'],
      ['source', 'clean', '4', '4', '64.0 MiB', '3.0 MiB', '12', '1,200', '5.0 MiB', '40 ms'],
      ['clean', 'sink events', '2', '1', '1.0 MiB', '512 B', '—', '—', '—', '—'],
    ]);
  });
});
