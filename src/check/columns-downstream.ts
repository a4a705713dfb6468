/**
 * Column names used after the source: the columns a stage says it reads (`inputColumns` in
 * its defineStage, from its options), a stage's `key` and `sink.partitionBy`. The columns are followed from
 * the source through each stage that says what it passes on: `keepsColumns: true` (config
 * entry or defineStage) or `outputColumns(input, options)`. Past a stage that says neither,
 * nothing is known before the run; what could not be checked is said as a note, so silence
 * means checked.
 */
import { closest } from '../config/closest';
import { isError, type ConfigIssue } from '../errors';
import type { SourceColumns } from '../io/sources/probe';
import type { StageDefinition } from '../worker/api';
import { callWithoutExit } from '../worker/load';
import { missingColumn } from './columns';
import { SOURCE_NODE, sinkSections } from '../config/graph';

interface StageEntry {
  name?: unknown;
  input?: unknown;
  key?: unknown;
  keepsColumns?: unknown;
  options?: unknown;
}

export interface DownstreamChecks {
  issues: ConfigIssue[];
  /** Names that could not be checked, and why. */
  notes: ConfigIssue[];
  /**
   * The columns each stage receives (by index) and those the last one passes on, as far as
   * known; `stageInputs`: what each stage reads (-1: the source; undefined: an input the
   * config's graph refuses); `sinks`: what each sink writes and the columns it gets.
   */
  flow: { inputs: Known[]; output: Known; stageInputs: (number | undefined)[]; sinks: { from: number | undefined; columns: Known }[] };
}

/** The columns at a point of the pipeline: known (and after which stage), or not (and since which stage). */
export type Known = { known: true; columns: readonly string[]; after?: string } | { known: false; unknownSince: string };

export function downstreamColumnIssues(raw: unknown, source: SourceColumns, definitions: Map<number, StageDefinition>): DownstreamChecks {
  const issues: ConfigIssue[] = [];
  const notes: ConfigIssue[] = [];
  const projection = (raw as { source?: { columns?: unknown } }).source?.columns;
  const stages = (raw as { stages?: unknown }).stages;
  // What the source passes on: the projection, in its order, or every column.
  const read: Known = { known: true, columns: Array.isArray(projection) ? (projection as string[]) : source.names };
  const inputs: Known[] = [];
  const outputs: Known[] = [];
  const list = Array.isArray(stages) ? (stages as StageEntry[]) : [];
  const names = list.map((s) => s?.name);
  // What a stage or sink reads, by the name it gives (config/graph.ts refuses a wrong one, with its path).
  const producer = (name: unknown, fallback: number, before: number): number | undefined => {
    if (name === undefined) return fallback;
    if (name === SOURCE_NODE) return -1;
    const at = names.indexOf(name);
    return at >= 0 && at < before ? at : undefined;
  };
  const at = (p: number | undefined): Known => (p === undefined ? { known: false, unknownSince: 'its input' } : p < 0 ? read : outputs[p]);
  const stageInputs = list.map((s, i) => producer(s?.input, i - 1, i));
  if (!Array.isArray(stages)) return { issues, notes, flow: { inputs, output: read, stageInputs, sinks: sinkFlow() } };

  // `what`: whose name it is, when not an option's ("the stage's reads(options):").
  const check = (path: string, name: unknown, at: Known, what?: string) => {
    if (typeof name !== 'string' || name === '' || !at.known) return; // the schema says what is wrong with a non-name
    if (at.columns.includes(name)) return;
    const say = (message: string) => issues.push({ path, message: what ? `${what} ${message}` : message });
    if (at.after) {
      const hint = closest(name, [...at.columns]);
      say(`column "${name}" is not among the columns stage "${at.after}" passes on (${at.columns.join(', ')}${hint ? `; did you mean "${hint}"?` : ''})`);
    } else if (!source.names.includes(name)) say(missingColumn(name, source));
    else say(`column "${name}" is left out by source.columns (${at.columns.join(', ')}); add it there`);
  };
  const unknown = (path: string, what: string, at: { unknownSince: string }): void => {
   
    notes.push({ path, message: `${what} not checked: stage "${at.unknownSince}" before it may change the columns (declare keepsColumns: true or outputColumns() in its defineStage)` });
  };

  list.forEach((stage, index) => {
    const definition = definitions.get(index);
    const options = (stage?.options ?? {}) as Record<string, unknown>;
    const now = at(stageInputs[index]);
    inputs.push(now);
    if (Array.isArray(stage?.key)) {
      const at: Known = now;
      if (!at.known) unknown(`stages[${index}].key`, 'key columns', at);
      else stage.key.forEach((name) => check(`stages[${index}].key`, name, at, 'key:'));
    }
    const named = definition?.inputColumns && call(() => definition.inputColumns!(options), `stages[${index}].options`, "the stage's inputColumns(options)", issues);
    for (const [option, names] of Object.entries(named ?? {})) {
      const path = `stages[${index}].options.${option}`;
      if (names === undefined) continue;
      if (!Array.isArray(names)) issues.push({ path, message: `must be a list of column names (the stage's inputColumns says it names columns), got ${JSON.stringify(names)}` });
      else {
        const at: Known = now;
        if (!at.known) unknown(path, 'columns', at);
        else names.forEach((name, i) => check(`${path}[${i}]`, name, at));
      }
    }
    const reads = definition?.reads && call(() => definition.reads!(options), `stages[${index}].module`, "the stage's reads(options)", issues);
    if (reads !== undefined && !isNames(reads)) issues.push({ path: `stages[${index}].module`, message: `the stage's reads(options) must return a list of column names, got ${JSON.stringify(reads)}` });
    else if (reads && now.known) {
      // A name its options give is reported once, at the option (above).
      const optionNames = new Set(Object.values(named ?? {}).flatMap((names) => (Array.isArray(names) ? names : [])));
      reads.filter((name) => !optionNames.has(name)).forEach((name) => check(`stages[${index}].module`, name, now, "the stage's reads(options):"));
    }
    outputs.push(passedOn(now, stage, definition, index, options, issues));
  });
  function sinkFlow() {
    return sinkSections(raw).map(({ where, sink }) => {
      const from = producer(sink?.from, list.length - 1, list.length);
      const columns = at(from);
      const partitionBy = sink?.partitionBy;
      if (Array.isArray(partitionBy) && from !== undefined) {
        if (!columns.known) unknown(`${where}.partitionBy`, 'partition columns', columns);
        else partitionBy.forEach((c: unknown, i) => check(`${where}.partitionBy[${i}]`, c, columns));
      }
      return { from, columns };
    });
  }
  return { issues, notes, flow: { inputs, output: at(list.length - 1), stageInputs, sinks: sinkFlow() } };
}

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((c) => typeof c === 'string');

/** The columns after a stage, as far as it says. */
function passedOn(now: Known, stage: StageEntry, definition: StageDefinition | undefined, index: number, options: Record<string, unknown>, issues: ConfigIssue[]): Known {
  if (!now.known) return now;
  const name = String(stage?.name);
  if (stage?.keepsColumns === true || definition?.keepsColumns === true) return now;
  if (!definition?.outputColumns) return { known: false, unknownSince: name };
  const out = call(() => definition.outputColumns!(now.columns, options), `stages[${index}].module`, "the stage's outputColumns(input, options)", issues);
  if (out === undefined) return { known: false, unknownSince: name };
  if (!isNames(out)) {
    issues.push({ path: `stages[${index}].module`, message: `the stage's outputColumns(input, options) must return a list of column names, got ${JSON.stringify(out)}` });
    return { known: false, unknownSince: name };
  }
  return { known: true, columns: out, after: name };
}

/** A stage's declaration called on the config's values; what it throws is an issue at `path`. */
function call<T>(fn: () => T, path: string, what: string, issues: ConfigIssue[]): T | undefined {
  try {
    // Stage code run while checking: a process.exit() in it fails the check, never ends validate with 0.
    return callWithoutExit(what, fn);
  } catch (err) {
    issues.push({ path, message: `${what} threw: ${isError(err) ? err.message : String(err)}` });
    return undefined;
  }
}
