/**
 * The pipeline's shape as a config says it: which stage (or the source) each stage reads
 * (`input`) and each sink writes (`from`). Defaults make a list of stages a line: a stage
 * reads the one before it, a sink the last stage. Resolved here once, by name, into indexes
 * (-1 for the source) that the plan and the runtime use; every problem is an issue with its
 * config path, all found in one pass.
 *
 * A stage reads only a stage declared before it, so the config's order is an order in which
 * every stage comes after what it reads, and a cycle cannot be written without breaking that
 * rule (it is named as a cycle when it is one).
 */
import type { ConfigIssue } from '../errors';
import { closest } from './closest';

/** The name `input` and `from` use for the source. */
export const SOURCE_NODE = 'source';

/** The sink's name when a config has one `sink` without a name. */
export const DEFAULT_SINK_NAME = 'sink';

export interface GraphShape {
  /** Per stage (config order): what it reads, -1 for the source. */
  stageInputs: number[];
  /** Per sink (config order): its name, its config path, and what it writes (-1: the source). */
  sinks: { name: string; where: string; from: number }[];
}

type Entry = Record<string, unknown> | undefined;

/** The config's sink sections with their config paths: `sink`, or `sinks[0]`, `sinks[1]`, … */
export function sinkSections(raw: unknown): { where: string; sink: Entry }[] {
  const r = (raw ?? {}) as { sink?: unknown; sinks?: unknown };
  if (Array.isArray(r.sinks)) return r.sinks.map((s, i) => ({ where: `sinks[${i}]`, sink: asEntry(s) }));
  if (r.sink !== undefined) return [{ where: 'sink', sink: asEntry(r.sink) }];
  return [];
}

const asEntry = (v: unknown): Entry => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The shape of a config whose graph has no issues (graphIssues); throws on one that has. */
export function graphOf(raw: unknown): GraphShape {
  const { shape, issues } = resolveGraph(raw);
  if (!shape || issues.length) throw new Error(`the pipeline's graph has issues: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return shape;
}

/** Every problem of the config's shape: missing or doubled outputs, unknown or later inputs, cycles, stages whose output goes nowhere. */
export function graphIssues(raw: unknown): ConfigIssue[] {
  return resolveGraph(raw).issues;
}

function resolveGraph(raw: unknown): { shape?: GraphShape; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const r = (raw ?? {}) as { sink?: unknown; sinks?: unknown; stages?: unknown };
  if (r.sink === undefined && r.sinks === undefined) issues.push({ path: 'sink', message: 'missing: give `sink` (one output) or `sinks` (several, written in one pass)' });
  if (r.sink !== undefined && r.sinks !== undefined) issues.push({ path: 'sinks', message: 'give either `sink` (one output) or `sinks` (several), not both' });
  const stages = Array.isArray(r.stages) ? r.stages.map(asEntry) : [];
  const names = stages.map((s) => (typeof s?.name === 'string' ? s.name : undefined));
  const known = names.filter((n): n is string => n !== undefined);

  stages.forEach((_s, i) => {
    if (names[i] === SOURCE_NODE) issues.push({ path: `stages[${i}].name`, message: `"${SOURCE_NODE}" names the source in \`input\` and \`from\`; choose another name` });
  });

  /** What `name` (written at `path`, read by stage `reader` or by a sink) refers to; undefined after an issue. */
  const resolve = (name: unknown, path: string, reader?: number): number | undefined => {
    if (typeof name !== 'string') return undefined; // the schema says what is wrong with a non-name
    if (name === SOURCE_NODE) return -1;
    const at = names.indexOf(name);
    if (at < 0) {
      const hint = closest(name, [...known, SOURCE_NODE]);
      issues.push({ path, message: `no stage named "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; stages: ${known.join(', ') || 'none'}, or "${SOURCE_NODE}"` });
      return undefined;
    }
    if (reader === undefined) return at;
    if (at === reader) {
      issues.push({ path, message: `stage "${name}" cannot read its own output` });
      return undefined;
    }
    if (at > reader) {
      const cycle = cycleThrough(reader, at, stages, names);
      issues.push({
        path,
        message: cycle
          ? `a cycle: ${cycle.join(' → ')}; a stage reads the source or a stage before it`
          : `stage "${name}" is declared after this one (stages[${at}]); a stage reads the source or a stage declared before it: move "${name}" above`,
      });
      return undefined;
    }
    return at;
  };

  const stageInputs = stages.map((s, i) => (s?.input === undefined ? i - 1 : resolve(s.input, `stages[${i}].input`, i)));
  const sections = sinkSections(raw);
  const sinkNames = new Map<string, string>();
  const sinks = sections.map(({ where, sink }, k) => {
    const given = sink?.name;
    if (sections.length > 1 && given === undefined) issues.push({ path: `${where}.name`, message: 'required when there are several sinks (the report and `--sink-path <name>=<path>` name them)' });
    const name = typeof given === 'string' ? given : sections.length > 1 ? `sinks[${k}]` : DEFAULT_SINK_NAME;
    const first = sinkNames.get(name);
    if (first !== undefined && typeof given === 'string') issues.push({ path: `${where}.name`, message: `duplicate sink name "${name}" (also ${first}); names must be unique` });
    else sinkNames.set(name, where);
    const from = sink?.from === undefined ? stages.length - 1 : resolve(sink.from, `${where}.from`);
    return { name, where, from };
  });

  // A stage whose output nothing reads would run for nothing, its rows lost: refused. A stage
  // named by a refused input counts as read (that input's own issue says what is wrong).
  const named = [...stages.map((s) => s?.input), ...sections.map((s) => s.sink?.from)].map((n) => (typeof n === 'string' ? names.indexOf(n) : -1));
  const read = new Set<number>([...stageInputs, ...sinks.map((s) => s.from), ...named].filter((n): n is number => n !== undefined));
  stages.forEach((_s, i) => {
    if (read.has(i) || names[i] === undefined) return;
    issues.push({
      path: `stages[${i}]`,
      message: `the output of stage "${names[i]}" goes nowhere: no stage has \`input: "${names[i]}"\` and no sink has \`from: "${names[i]}"\`; add a sink that writes it, or remove the stage`,
    });
  });

  if (issues.length || stageInputs.some((n) => n === undefined) || sinks.some((s) => s.from === undefined)) return { issues };
  return { shape: { stageInputs: stageInputs as number[], sinks: sinks as GraphShape['sinks'] }, issues };
}

/** The stages from `reader` through `at` back to `reader` along `input`, when they form a cycle. */
function cycleThrough(reader: number, at: number, stages: Entry[], names: (string | undefined)[]): string[] | undefined {
  const path = [names[reader] ?? `stages[${reader}]`];
  const seen = new Set<number>([reader]);
  let i = at;
  while (!seen.has(i)) {
    seen.add(i);
    path.push(names[i] ?? `stages[${i}]`);
    const input = stages[i]?.input;
    const next = input === undefined ? i - 1 : typeof input === 'string' ? names.indexOf(input) : -1;
    if (next === reader) return [...path, path[0]];
    if (next < 0) return undefined;
    i = next;
  }
  return undefined;
}
