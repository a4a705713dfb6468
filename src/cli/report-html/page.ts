/** The run report as one self-contained HTML page: a summary, the charts (Vega-Lite, inlined), the graph (inline SVG) and the per-stage and per-edge tables. */
import type { RunReport } from '../../runtime/types';
import { bytes, count, ms } from '../format';
import { rowsWritten, sinksOf } from '../report-sinks';
import { chartBundles } from './bundle';
import { graphSvg } from './graph-svg';
import { depthSpec, memorySpec, rateSpec, timelineSpec, type Spec } from './specs';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside a <script>: no `</script>` or `<!--` can end it early. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
/** A library bundle inside a <script>: the same, for the one sequence that could close it. */
const scriptText = (js: string) => js.replace(/<\/script/gi, '<\\/script');

export function renderHtmlReport(r: RunReport, bundles: string[] = chartBundles()): string {
  const charts = Object.entries({ timeline: timelineSpec(r), depth: depthSpec(r), rate: rateSpec(r), memory: memorySpec(r) }).filter((e): e is [string, Spec] => e[1] !== undefined);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(`${r.ok ? '✔' : '✖'} ${r.pipeline} — sluice run report`)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212529; }
h1 { font-size: 20px; margin: 0 0 4px; } .ok { color: #2f9e44; } .failed { color: #c92a2a; }
table { border-collapse: collapse; margin: 12px 0; } th, td { padding: 3px 10px; border-bottom: 1px solid #dee2e6; text-align: right; }
th:first-child, td:first-child { text-align: left; } td { white-space: nowrap; } .chart { margin: 18px 0; } .error { color: #c92a2a; white-space: pre-wrap; }
</style></head><body>
<h1 class="${r.ok ? 'ok' : 'failed'}">${r.ok ? '✔' : '✖'} ${esc(r.pipeline)}</h1>
<p>${esc(summary(r))}</p>
${paramsTable(r)}
${r.error ? `<p class="error">${esc(`${r.error.code}: ${r.error.message}`)}</p>` : ''}
${charts.map(([id]) => `<div class="chart" id="chart-${id}"></div>`).join('\n')}
${r.channels.length ? `<h2>graph</h2>\n<div class="graph" style="overflow-x: auto; max-width: 100%">${graphSvg(r)}</div>` : ''}
${stageTable(r)}
${rejectedTable(r)}
${edgeTable(r)}
${bundles.map((js) => `<script>${scriptText(js)}</script>`).join('\n')}
<script>
const charts = ${scriptJson(Object.fromEntries(charts))};
Promise.all(Object.entries(charts).map(([id, spec]) => vegaEmbed('#chart-' + id, spec, { renderer: 'svg', actions: false })))
  .then(() => document.body.setAttribute('data-rendered', 'ok'))
  .catch((err) => { document.body.setAttribute('data-rendered', 'error'); document.body.insertAdjacentHTML('afterbegin', '<p class="error"></p>'); document.querySelector('.error').textContent = 'chart error: ' + err; });
</script>
</body></html>
`;
}

function summary(r: RunReport): string {
  const secs = r.durationMs / 1000;
  const rate = secs > 0 ? Math.round(r.source.rows / secs) : 0;
  return `${count(r.source.rows)} rows from ${r.source.files} file(s) → ${count(rowsWritten(r))} rows${sinksOf(r).length > 1 ? ` in ${sinksOf(r).length} sinks` : ''} in ${ms(r.durationMs)} (${count(rate)} rows/s; start-up ${ms(r.startupMs)}); peak RSS ${bytes(r.peakRssBytes)}; started ${r.startedAt}`;
}

/**
 * The run's graph, edge by edge: each channel joins what writes it to what reads it (its name is
 * `from→to`), with its bound and what it held at most, so a branch that held the others back
 * shows as the edge that filled.
 */
function edgeTable(r: RunReport): string {
  if (!r.channels.length) return '';
  const head = ['from', 'to', 'bound (items)', 'peak items', 'bound (bytes)', 'peak bytes', 'batches', 'rows', 'bytes', 'credit wait'];
  const opt = (v: number | undefined, f: (n: number) => string) => (v === undefined ? '—' : f(v));
  const rows = r.channels.map((c) => {
    const [from, to] = c.name.includes('→') ? c.name.split('→') : [c.name, ''];
    return [from, to, String(c.capacity), String(c.peakDepth), bytes(c.capacityBytes), bytes(c.peakBytes), opt(c.batches, count), opt(c.rows, count), opt(c.bytes, bytes), opt(c.creditWaitMs, ms)];
  });
  const tr = (cells: string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;
  return `<h2>graph: one row per edge (channel)</h2><table id="edges">${tr(head, 'th')}${rows.map((row) => tr(row, 'td')).join('')}</table>`;
}

/** The run's params (defaults and --set): which night's data a page is about, and with what settings. */
function paramsTable(r: RunReport): string {
  const entries = Object.entries(r.params ?? {});
  if (!entries.length) return '';
  const tr = (cells: string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;
  return `<table id="params">${tr(['param', 'value'], 'th')}${entries.map(([k, v]) => tr([k, JSON.stringify(v)], 'td')).join('')}</table>`;
}

function stageTable(r: RunReport): string {
  const head = ['stage', 'mode', 'copies', 'rows in', 'batches in', 'rows out', 'batches out', 'bytes out', 'busy', 'idle (no input)', 'blocked (full)', 'peak in flight'];
  const rows = r.stages.map((s) => [s.name, s.mode, String(s.copies), count(s.rowsIn), count(s.batchesIn), count(s.rowsOut), count(s.batchesOut), bytes(s.bytesOut), ms(s.busyMs), ms(s.idleMs), ms(s.blockedMs), String(s.peakInFlight)]);
  rows.unshift(['source', '—', '—', '', '', count(r.source.rows), count(r.source.batches), bytes(r.source.bytes), ms(r.source.busyMs), '', ms(r.source.blockedMs), '']);
  const sinks = sinksOf(r);
  for (const s of sinks) rows.push([sinks.length === 1 ? 'sink' : `sink ${s.name}`, '—', '—', count(s.rows), count(s.batches), '', '', bytes(s.bytes), ms(s.busyMs), '', '', '']);
  const tr = (cells: string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;
  return `<table id="stages">${tr(head, 'th')}${rows.map((row) => tr(row, 'td')).join('')}</table>`;
}

/** Rows taken out by `onError`, per place, action and reason, most first. */
function rejectedTable(r: RunReport): string {
  if (!r.rejected) return '';
  const head = ['place', 'action', 'rows', 'reason'];
  const rows = [...r.rejected.counts].sort((a, b) => b.rows - a.rows).map((c) => [c.place, c.action, count(c.rows), c.reason]);
  const tr = (cells: string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;
  const out = r.rejected.deadLetter ? `; dead-letter output ${r.rejected.deadLetter.path}` : '';
  return `<h2>${esc(`rejected rows (onError): ${count(r.rejected.rows)}${out}`)}</h2><table id="rejected">${tr(head, 'th')}${rows.map((row) => tr(row, 'td')).join('')}</table>`;
}
