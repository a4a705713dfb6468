/**
 * The plan's graph drawn for people: whether it is a line (explain then prints it as it always
 * has, channel by channel), and as Mermaid or Graphviz text (`explain --format mermaid|dot`),
 * each edge labelled with its channel's bound and the whole graph with its memory bound.
 */
import type { ChannelBounds, Plan } from './types';

/** Every stage reads the one before it and one sink writes the last: a pipeline as a list. */
export function isLine(plan: Pick<Plan, 'stages' | 'sinks'>): boolean {
  return plan.sinks.length === 1 && plan.sinks[0].from === plan.stages.length - 1 && plan.stages.every((s, i) => s.input === i - 1);
}

/** Bytes as explain prints them (`64 MiB`, `1.5 MiB`). */
export const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
const bound = (b: ChannelBounds) => `${b.capacity} × ${mib(b.capacityBytes)}`;

interface Node {
  id: string;
  label: string;
  kind: 'source' | 'stage' | 'built-in' | 'sink';
}

interface Edge {
  from: string;
  to: string;
  label: string;
}

/** Nodes and edges, with ids safe in both languages (`source`, `s0`, `k0`). */
function graphOf(plan: Plan): { nodes: Node[]; edges: Edge[] } {
  const idOf = (p: number) => (p < 0 ? 'source' : `s${p}`);
  const boundsOf = (p: number) => (p < 0 ? plan.sourceOutput : plan.stages[p].output);
  const nodes: Node[] = [{ id: 'source', label: `source: ${plan.source.format}`, kind: 'source' }];
  const edges: Edge[] = [];
  plan.stages.forEach((s, i) => {
    nodes.push({ id: idOf(i), label: `${s.name}: ${s.mode} × ${s.copies}`, kind: s.encode || s.partition ? 'built-in' : 'stage' });
    edges.push({ from: idOf(s.input), to: idOf(i), label: bound(boundsOf(s.input)) });
  });
  plan.sinks.forEach((k, i) => {
    nodes.push({ id: `k${i}`, label: `${k.name}: ${k.config.format} → ${k.config.path}`, kind: 'sink' });
    edges.push({ from: idOf(k.from), to: `k${i}`, label: bound(boundsOf(k.from)) });
  });
  return { nodes, edges };
}

const quoted = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
// Mermaid reads `"` as the end of a label: it has its own escape, #quot;.
const mermaidText = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

export function renderMermaid(plan: Plan): string {
  const { nodes, edges } = graphOf(plan);
  const shape = (n: Node) => (n.kind === 'sink' ? `[(${mermaidText(n.label)})]` : n.kind === 'source' ? `([${mermaidText(n.label)}])` : n.kind === 'built-in' ? `{{${mermaidText(n.label)}}}` : `[${mermaidText(n.label)}]`);
  return [
    `%% ${plan.name}: batches in memory bounded by ${mib(plan.memoryBoundBytes)}; each edge: channel capacity × byte cap`,
    'flowchart TD',
    ...nodes.map((n) => `  ${n.id}${shape(n)}`),
    ...edges.map((e) => `  ${e.from} -->|${mermaidText(e.label)}| ${e.to}`),
  ].join('\n');
}

export function renderDot(plan: Plan): string {
  const { nodes, edges } = graphOf(plan);
  const shape = (n: Node) => (n.kind === 'sink' ? 'cylinder' : n.kind === 'source' ? 'oval' : n.kind === 'built-in' ? 'hexagon' : 'box');
  return [
    `digraph ${quoted(plan.name)} {`,
    `  label=${quoted(`batches in memory bounded by ${mib(plan.memoryBoundBytes)}; each edge: channel capacity × byte cap`)};`,
    ...nodes.map((n) => `  ${n.id} [shape=${shape(n)}, label=${quoted(n.label)}];`),
    ...edges.map((e) => `  ${e.from} -> ${e.to} [label=${quoted(e.label)}];`),
    '}',
  ].join('\n');
}
