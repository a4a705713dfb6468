/**
 * The run's graph drawn as inline SVG for the HTML report: the source, each stage and each sink
 * a box (with its copies and busy time), each channel an arrow from what writes it to what reads
 * it, labelled with what passed (batches, rows, bytes) and how long its producer waited for
 * credit, so a branch that held the others back shows as the edge that waited.
 *
 * Layout by layers: a node's column is its longest distance from the source (the graph is a
 * DAG, its edges always point to a later column), its row its order of appearance in that
 * column. The graphs of a run are a few dozen nodes at most: no layout library is worth it.
 */
import type { RunReport } from '../../runtime/types';
import { bytes, count, ms } from '../format';
import { sinksOf } from '../report-sinks';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const BOX_W = 180;
const BOX_H = 46;
const COL_GAP = 240;
const ROW_GAP = 40;
const PAD = 12;

interface Node {
  name: string;
  lines: string[];
}

interface Edge {
  from: string;
  to: string;
  /** What passed; how long its producer waited for credit. */
  label: string[];
}

/** The nodes (source, stages, sinks, by the names the channels use) and the edges of `r`. */
export function graphOf(r: RunReport): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = [{ name: 'source', lines: [`${count(r.source.batches)} batches · busy ${ms(r.source.busyMs)}`] }];
  for (const s of r.stages) nodes.push({ name: s.name, lines: [`${s.mode} × ${s.copies} ${s.copies === 1 ? 'copy' : 'copies'} · busy ${ms(s.busyMs)}`] });
  const sinks = sinksOf(r);
  for (const s of sinks) nodes.push({ name: sinks.length === 1 ? 'sink' : `sink ${s.name}`, lines: [`${count(s.rows)} rows · busy ${ms(s.busyMs)}`] });
  const edges = r.channels.map((c) => {
    const at = c.name.indexOf('→');
    const [from, to] = at < 0 ? [c.name, ''] : [c.name.slice(0, at), c.name.slice(at + 1)];
    const figures = c.batches === undefined ? [] : [`${count(c.batches)} batches`, `${count(c.rows ?? 0)} rows`, bytes(c.bytes ?? 0)];
    const wait = c.creditWaitMs === undefined ? [] : [`credit wait ${ms(c.creditWaitMs)}`];
    return { from, to, label: [figures.join(' · '), ...wait].filter(Boolean) };
  });
  // A channel end that names no node (a report of another version): drawn as a node of its own.
  for (const e of edges) for (const end of [e.from, e.to]) if (end && !nodes.some((n) => n.name === end)) nodes.push({ name: end, lines: [] });
  return { nodes, edges };
}

/** The graph of `r` as an `<svg>` element; empty when the run has no channels (it failed before they existed). */
export function graphSvg(r: RunReport): string {
  if (!r.channels.length) return '';
  const { nodes, edges } = graphOf(r);
  // Longest distance from the source; edges point from earlier to later nodes (the plan's order), so one pass in order settles it.
  const depth = new Map<string, number>(nodes.map((n) => [n.name, 0]));
  for (let changed = true, rounds = 0; changed && rounds <= nodes.length; rounds++) {
    changed = false;
    for (const e of edges) {
      const d = (depth.get(e.from) ?? 0) + 1;
      if (e.to && d > (depth.get(e.to) ?? 0)) {
        depth.set(e.to, d);
        changed = true;
      }
    }
  }
  const rowsOf = new Map<number, number>();
  const at = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const col = depth.get(n.name) ?? 0;
    const row = rowsOf.get(col) ?? 0;
    rowsOf.set(col, row + 1);
    at.set(n.name, { x: PAD + col * (BOX_W + COL_GAP), y: PAD + row * (BOX_H + ROW_GAP) });
  }
  const width = PAD * 2 + (Math.max(...depth.values()) + 1) * (BOX_W + COL_GAP) - COL_GAP;
  const height = PAD * 2 + Math.max(...rowsOf.values()) * (BOX_H + ROW_GAP) - ROW_GAP + 14;
  const boxes = nodes.map((n) => {
    const { x, y } = at.get(n.name)!;
    const text = [n.name, ...n.lines].map((line, i) => `<text x="${x + 8}" y="${y + 18 + i * 17}"${i === 0 ? ' font-weight="600"' : ' font-size="11"'}>${esc(line)}</text>`).join('');
    return `<g class="node" data-name="${esc(n.name)}"><rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="#f8f9fa" stroke="#495057"/>${text}</g>`;
  });
  const arrows = edges.map((e) => {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) return '';
    const [x1, y1, x2, y2] = [a.x + BOX_W, a.y + BOX_H / 2, b.x, b.y + BOX_H / 2];
    const mid = (x1 + x2) / 2;
    // The label sits on the arrow's last stretch, level with its head: fanned-out edges end at different rows, so their labels do not overlap.
    return (
      `<g class="edge" data-from="${esc(e.from)}" data-to="${esc(e.to)}">` +
      `<path d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" fill="none" stroke="#1c7ed6" stroke-width="1.5" marker-end="url(#arrow)"/>` +
      e.label.map((line, i) => `<text x="${x2 - 6}" y="${y2 - 6 - (e.label.length - 1 - i) * 14}" text-anchor="end" font-size="11" fill="#1864ab">${esc(line)}</text>`).join('') +
      '</g>'
    );
  });
  return (
    `<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13" role="img" aria-label="the run's graph">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1c7ed6"/></marker></defs>` +
    `${arrows.join('')}${boxes.join('')}</svg>`
  );
}
