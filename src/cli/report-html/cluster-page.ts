/**
 * The report of a cluster run (cluster/driver.ts ClusterReport) as one self-contained HTML page:
 * the summary, a timeline (one lane per worker, one bar per unit's last attempt, retried units
 * marked), and the per-unit and per-worker tables. Inline SVG, no script: it opens anywhere.
 */
import type { ClusterReport } from '../../cluster/driver';
import { count, ms } from '../format';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const tr = (cells: string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;

export function renderClusterHtml(r: ClusterReport): string {
  const title = `${r.ok ? '✔' : '✖'} ${r.pipeline || 'cluster run'} — run ${r.runId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${esc(`${title} — sluice cluster report`)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212529; }
h1 { font-size: 20px; margin: 0 0 4px; } .ok { color: #2f9e44; } .failed { color: #c92a2a; }
table { border-collapse: collapse; margin: 12px 0; } th, td { padding: 3px 10px; border-bottom: 1px solid #dee2e6; text-align: right; }
th:first-child, td:first-child { text-align: left; } td { white-space: nowrap; } .error { color: #c92a2a; white-space: pre-wrap; }
</style></head><body>
<h1 class="${r.ok ? 'ok' : 'failed'}">${esc(title)}</h1>
<p>${esc(summary(r))}</p>
${r.error ? `<p class="error">${esc(r.error)}</p>` : ''}
${timeline(r)}
${workerTable(r)}
${unitTable(r)}
${sinkTable(r)}
</body></html>
`;
}

function summary(r: ClusterReport): string {
  if (r.alreadyCommitted) return `run ${r.runId} was committed already: nothing was done`;
  const retried = r.units.filter((u) => u.attempts > 1).length;
  return `${count(r.rows)} rows from ${r.units.length} unit(s) on ${r.cluster}, by ${r.workers?.length ?? 0} worker(s), in ${ms(r.durationMs)}${retried ? `; ${retried} unit(s) retried` : ''}${r.commit ? `; commit ${ms(r.commit.ms)} on ${r.commit.worker}` : ''}${r.startedAt ? `; started ${r.startedAt}` : ''}`;
}

/** One lane per worker; each unit's last attempt as a bar from its start, as long as it took. */
function timeline(r: ClusterReport): string {
  const units = r.units.filter((u) => u.startedAt !== undefined);
  if (!units.length || !r.startedAt) return '';
  const t0 = Date.parse(r.startedAt);
  const lanes = [...new Set(units.map((u) => u.worker))].sort();
  const end = Math.max(r.durationMs, ...units.map((u) => Date.parse(u.startedAt!) - t0 + u.ms), 1);
  const left = 180;
  const width = 720;
  const lane = 22;
  const x = (t: number) => left + (Math.max(0, t) / end) * width;
  const bars = units.map((u) => {
    const start = Date.parse(u.startedAt!) - t0;
    const y = 20 + lanes.indexOf(u.worker) * lane;
    const w = Math.max(1, x(start + u.ms) - x(start));
    const fill = u.attempts > 1 ? '#f08c00' : u.warm ? '#2f9e44' : '#1c7ed6';
    return `<rect class="unit" data-unit="${u.unit}" x="${x(start).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${lane - 6}" fill="${fill}"><title>${esc(`unit ${u.unit} (${u.file}): ${count(u.rows)} rows, ${ms(u.ms)}, start-up ${ms(u.startupMs ?? 0)}${u.warm ? ', warm copies' : ', cold start'}${u.attempts > 1 ? `, ${u.attempts} attempts` : ''}`)}</title></rect>`;
  });
  const names = lanes.map((l, i) => `<text x="0" y="${20 + i * lane + 12}" font-size="12">${esc(l)}</text>`);
  const height = 30 + lanes.length * lane;
  return `<h2>timeline: units per worker (blue cold start, green warm copies, orange retried)</h2>
<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${left + width + 20}" height="${height}"><text x="${left}" y="12" font-size="11">0</text><text x="${left + width}" y="12" font-size="11" text-anchor="end">${esc(ms(end))}</text>${names.join('')}${bars.join('')}</svg>`;
}

function workerTable(r: ClusterReport): string {
  if (!r.workers?.length) return '';
  const head = ['worker', 'units', 'on warm copies', 'rows', 'busy (wall)', 'start-up', 'CPU (its process)'];
  const rows = r.workers.map((w) => [w.worker, String(w.units), String(w.warmUnits), count(w.rows), ms(w.busyMs), ms(w.startupMs), ms(w.cpuMs)]);
  return `<h2>workers</h2><table id="workers">${tr(head, 'th')}${rows.map((row) => tr(row, 'td')).join('')}</table>`;
}

function unitTable(r: ClusterReport): string {
  if (!r.units.length) return '';
  const head = ['unit', 'file', 'worker', 'attempts', 'rows', 'time', 'start-up', 'CPU', 'copies'];
  const rows = r.units.map((u) => [String(u.unit), u.file, u.worker, String(u.attempts), count(u.rows), ms(u.ms), u.startupMs === undefined ? '—' : ms(u.startupMs), u.cpuMs === undefined ? '—' : ms(u.cpuMs), u.warm === undefined ? '—' : u.warm ? 'warm' : 'cold']);
  return `<h2>units</h2><table id="units">${tr(head, 'th')}${rows.map((row) => tr(row, 'td')).join('')}</table>`;
}

function sinkTable(r: ClusterReport): string {
  if (!r.sinks.length) return '';
  const rows = r.sinks.map((s) => [s.name, s.path, count(s.rows), String(s.files.length)]);
  return `<h2>committed</h2><table id="sinks">${tr(['sink', 'path', 'rows', 'files'], 'th')}${rows.map((row) => tr(row, 'td')).join('')}</table>`;
}
