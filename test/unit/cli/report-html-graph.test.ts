/**
 * The HTML report draws the run's graph (cli/report-html/graph-svg.ts): for a real two-sink run
 * with a fan-out (one stage read by a sink and by another stage), the page holds one SVG edge
 * per channel, from what writes it to what reads it, labelled with what passed through it
 * (batches, rows, bytes) and its credit wait, and one box per node with its copies and busy
 * time. The figures are checked against what the input is (1000 rows in batches of 100), not
 * only against the report.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { renderHtmlReport } from '../../../src/cli/report-html/page';
import { bytes, ms } from '../../../src/cli/format';
import { checkConfig } from '../../../src/config';
import { buildPlan } from '../../../src/plan/build';
import { runPlan } from '../../../src/runtime/run';
import type { RunReport } from '../../../src/runtime/types';

const FIXTURES = path.resolve(__dirname, '../../fixtures/stages');
const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-html-graph-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every `<g class="edge">` of the page's SVG: its ends and its label lines. */
function svgEdges(html: string): { from: string; to: string; label: string[] }[] {
  const svg = /<svg id="graph"[^>]*>(.*?)<\/svg>/s.exec(html)?.[1];
  if (svg === undefined) throw new Error('no <svg id="graph"> in the page');
  return [...svg.matchAll(/<g class="edge" data-from="([^"]*)" data-to="([^"]*)">(.*?)<\/g>/g)].map((m) => ({
    from: m[1],
    to: m[2],
    label: [...m[3].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]),
  }));
}

function svgNodes(html: string): Record<string, string[]> {
  const svg = /<svg id="graph"[^>]*>(.*?)<\/svg>/s.exec(html)![1];
  return Object.fromEntries([...svg.matchAll(/<g class="node" data-name="([^"]*)">(.*?)<\/g>/g)].map((m) => [m[1], [...m[2].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1])]));
}

let report: RunReport;
beforeAll(async () => {
  const rows = ['id,x'];
  for (let i = 0; i < 1000; i++) rows.push(`${i},${i * 2}`);
  writeFileSync(path.join(root, 'in.csv'), rows.join('\n') + '\n');
  const config = {
    name: 'two-sinks',
    source: { format: 'csv' as const, path: path.join(root, 'in.csv'), batchRows: 100 },
    stages: [
      { name: 'tagged', module: path.join(FIXTURES, 'tag.ts'), mode: 'inline' as const, options: { tag: 't' } },
      { name: 'copied', module: path.join(FIXTURES, 'identity.ts'), mode: 'inline' as const, input: 'tagged' },
    ],
    sinks: [
      { name: 'all', from: 'tagged', format: 'csv' as const, path: path.join(root, 'all.csv') },
      { name: 'again', from: 'copied', format: 'ndjson' as const, path: path.join(root, 'again.ndjson') },
    ],
  };
  const resolved = checkConfig(config, '', root);
  report = await runPlan(buildPlan(resolved.config, resolved), { log: pino({ level: 'silent' }) });
}, 60_000);

it('has one SVG edge per channel, with its ends and what passed through it', () => {
  const html = renderHtmlReport(report, []);
  const edges = svgEdges(html);
  expect(edges.map((e) => `${e.from}→${e.to}`).sort()).toEqual(['copied→sink again', 'source→tagged', 'tagged→copied', 'tagged→sink all']);
  expect(edges).toHaveLength(report.channels.length);
  for (const e of edges) {
    const channel = report.channels.find((c) => c.name === `${e.from}→${e.to}`)!;
    // 1000 rows in batches of 100 pass along every edge of this graph (nothing filters).
    expect(channel).toMatchObject({ batches: 10, rows: 1000 });
    expect(channel.bytes).toBeGreaterThan(0);
    expect(e.label).toEqual([`10 batches · 1,000 rows · ${bytes(channel.bytes!)}`, `credit wait ${ms(channel.creditWaitMs!)}`]);
  }
  // The fan-out is visible: two edges leave "tagged".
  expect(edges.filter((e) => e.from === 'tagged')).toHaveLength(2);
});

it('has one box per node, with its copies and busy time', () => {
  const nodes = svgNodes(renderHtmlReport(report, []));
  expect(Object.keys(nodes).sort()).toEqual(['copied', 'sink again', 'sink all', 'source', 'tagged']);
  for (const s of report.stages) expect(nodes[s.name]).toEqual([s.name, `inline × 1 copy · busy ${ms(s.busyMs)}`]);
  expect(nodes['sink all'][1]).toMatch(/^1,000 rows · busy /);
});

it('lays the graph out left to right: every edge points to a later column', () => {
  const html = renderHtmlReport(report, []);
  const svg = /<svg id="graph"[^>]*>(.*?)<\/svg>/s.exec(html)![1];
  const x = Object.fromEntries([...svg.matchAll(/<g class="node" data-name="([^"]*)"><rect x="([\d.]+)"/g)].map((m) => [m[1], Number(m[2])]));
  for (const e of svgEdges(html)) expect(x[e.to]).toBeGreaterThan(x[e.from]);
});

it('draws no graph for a run that failed before its channels existed', () => {
  const html = renderHtmlReport({ ...report, channels: [] }, []);
  expect(html).not.toContain('<svg id="graph"');
});
