/**
 * Column names used after the source: the columns a stage says it reads (`inputColumns` in
 * its defineStage, from its options) and `sink.partitionBy`. The columns are followed from
 * the source through each stage that says what it passes on: `keepsColumns: true` (config
 * entry or defineStage) or `outputColumns(input, options)`. Past a stage that says neither,
 * nothing is known before the run; what could not be checked is said as a note, so silence
 * means checked.
 */
import { closest } from '../config/closest';
import type { ConfigIssue } from '../errors';
import type { SourceColumns } from '../io/sources/probe';
import type { StageDefinition } from '../worker/api';
import { missingColumn } from './columns';

interface StageEntry {
  name?: unknown;
  keepsColumns?: unknown;
  options?: unknown;
}

export interface DownstreamChecks {
  issues: ConfigIssue[];
  /** Names that could not be checked, and why. */
  notes: ConfigIssue[];
}

/** The columns at a point of the pipeline: known (and after which stage), or not (and since which stage). */
type Known = { known: true; columns: readonly string[]; after?: string } | { known: false; unknownSince: string };

export function downstreamColumnIssues(raw: unknown, source: SourceColumns, definitions: Map<number, StageDefinition>): DownstreamChecks {
  const issues: ConfigIssue[] = [];
  const notes: ConfigIssue[] = [];
  const projection = (raw as { source?: { columns?: unknown } }).source?.columns;
  const stages = (raw as { stages?: unknown }).stages;
  if (!Array.isArray(stages)) return { issues, notes };
  // What the first stage receives: the projection, in its order, or every column.
  let now: Known = { known: true, columns: Array.isArray(projection) ? (projection as string[]) : source.names };

  const check = (path: string, name: unknown, at: Known) => {
    if (typeof name !== 'string' || name === '' || !at.known) return; // the schema says what is wrong with a non-name
    if (at.columns.includes(name)) return;
    if (at.after) {
      const hint = closest(name, [...at.columns]);
      issues.push({ path, message: `column "${name}" is not among the columns stage "${at.after}" passes on (${at.columns.join(', ')}${hint ? `; did you mean "${hint}"?` : ''})` });
    } else if (!source.names.includes(name)) issues.push({ path, message: missingColumn(name, source) });
    else issues.push({ path, message: `column "${name}" is left out by source.columns (${at.columns.join(', ')}); add it there` });
  };
  const unknown = (path: string, what: string, at: { unknownSince: string }): void => {
   
    notes.push({ path, message: `${what} not checked: stage "${at.unknownSince}" before it may change the columns (declare keepsColumns: true or outputColumns() in its defineStage)` });
  };

  (stages as StageEntry[]).forEach((stage, index) => {
    const definition = definitions.get(index);
    const options = (stage?.options ?? {}) as Record<string, unknown>;
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
    now = passedOn(now, stage, definition, index, options, issues);
  });
  const partitionBy = (raw as { sink?: { partitionBy?: unknown } }).sink?.partitionBy;
  const at: Known = now;
  if (Array.isArray(partitionBy)) {
    if (!at.known) unknown('sink.partitionBy', 'partition columns', at);
    else partitionBy.forEach((c: unknown, i) => check(`sink.partitionBy[${i}]`, c, at));
  }
  return { issues, notes };
}

/** The columns after a stage, as far as it says. */
function passedOn(now: Known, stage: StageEntry, definition: StageDefinition | undefined, index: number, options: Record<string, unknown>, issues: ConfigIssue[]): Known {
  if (!now.known) return now;
  const name = String(stage?.name);
  if (stage?.keepsColumns === true || definition?.keepsColumns === true) return now;
  if (!definition?.outputColumns) return { known: false, unknownSince: name };
  const out = call(() => definition.outputColumns!(now.columns, options), `stages[${index}].module`, "the stage's outputColumns(input, options)", issues);
  if (out === undefined) return { known: false, unknownSince: name };
  if (!Array.isArray(out) || !out.every((c) => typeof c === 'string')) {
    issues.push({ path: `stages[${index}].module`, message: `the stage's outputColumns(input, options) must return a list of column names, got ${JSON.stringify(out)}` });
    return { known: false, unknownSince: name };
  }
  return { known: true, columns: out, after: name };
}

/** A stage's declaration called on the config's values; what it throws is an issue at `path`. */
function call<T>(fn: () => T, path: string, what: string, issues: ConfigIssue[]): T | undefined {
  try {
    return fn();
  } catch (err) {
    issues.push({ path, message: `${what} threw: ${err instanceof Error ? err.message : String(err)}` });
    return undefined;
  }
}
