/**
 * The failure matrix's onError cells that must succeed: which rows a cell must reject, and
 * what its outputs must then hold, read by readers other than sluice (DuckDB; apache-arrow for
 * Arrow IPC files, which DuckDB cannot read here).
 *
 * Written from what the failure is, not from what the engine does: a stage that throws in
 * process() on the rows BAD_IDS rejects exactly those rows, or, when it has flush (state: a
 * part of a batch cannot be run again), every row of each batch that holds one; a bad value or
 * a ragged row at line BAD_LINE rejects that row. Every other row reaches each sink downstream
 * of the failing place with its values unchanged, a sink upstream of it gets every row, and
 * rows read = rows written + rows rejected.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { BAD_IDS, BAD_LINE, BATCH_ROWS, deadLetterPath, inputRows, onErrorOf, secondSinkPath, sinkPath, type MatrixCell, type SinkKind } from './failure-cells';
import { duckRows } from './duckdb';

/** One rejected row as the dead-letter output holds it. */
export interface RejectRow {
  /** The row's id: from its values, or (a ragged row, none of whose values counts as parsed) the first field of its text. */
  id: number;
  origin: string;
  stage: string | null;
  file: string | null;
  line: number | null;
  row: number | null;
  column: string | null;
  raw: string | null;
  reason: string;
}

export interface Outputs {
  /** `id:pad` of every row of the sink, sorted. */
  main: string[];
  /** The same for the second sink (shapes other than `line`). */
  second?: string[];
  /** The dead-letter output's rows; null when there is none. */
  rejects: RejectRow[] | null;
}

export interface RowsExpected {
  action: 'skip' | 'dead-letter';
  /** `source`, or the failing stage (`boom`). */
  place: string;
  reason: RegExp;
  /** The ids of the rows that must be rejected, sorted. */
  rejected: number[];
  /** Everything wrong with what the outputs hold. */
  check(outputs: Outputs): string[];
}

/** The ids of the rows of every batch (BATCH_ROWS rows each, in input order) that holds one of `ids`. */
const wholeBatches = (ids: readonly number[]) => [...new Set(ids.map((id) => Math.floor(id / BATCH_ROWS)))].flatMap((b) => Array.from({ length: BATCH_ROWS }, (_, i) => b * BATCH_ROWS + i));

/** The rows a cell must reject and what it must write; undefined when the cell must fail (or recover) as without onError. */
export function rowsExpected(cell: MatrixCell, inputs: string, cellDir: string, says: Record<string, RegExp>): RowsExpected | undefined {
  const action = onErrorOf(cell);
  if (action === 'fail') return undefined;
  let rejected: number[];
  let place: string;
  let reason: RegExp;
  /** Whether the second sink (shapes other than `line`) reads from downstream of the failing place. */
  let secondDownstream: boolean;
  if (cell.family === 'stage') {
    if (cell.phase !== 'process' || !cell.how.startsWith('throw-')) return undefined;
    const stateful = !(cell.retries || cell.stateless);
    rejected = stateful ? wholeBatches(BAD_IDS) : [...BAD_IDS];
    place = 'boom';
    reason = says[cell.how];
    // two-sinks: the second sink reads the last stage (boom or after it); branches: the first stage (boom only when it is first).
    secondDownstream = cell.shape === 'two-sinks' || cell.position === 'first';
  } else if (cell.family === 'source' && cell.fault !== 'unreadable-file') {
    rejected = [BAD_LINE - 2];
    place = 'source';
    reason = cell.fault === 'ragged-row' ? /ragged row/ : /./;
    secondDownstream = true;
  } else return undefined;
  const input = path.join(inputs, cell.family === 'source' ? { 'bad-value': 'in-bad.csv', 'ragged-row': 'in-ragged.csv', 'unreadable-file': 'in-trunc.csv.gz' }[cell.fault] : 'in.csv');
  const all = inputRows().map(([id, , , , pad]) => `${id}:${pad}`);
  const rest = all.filter((_, id) => !rejected.includes(id)).sort();
  return {
    action,
    place,
    reason,
    rejected,
    check(o) {
      const problems: string[] = [];
      const differs = (what: string, got: string[], want: string[]) => {
        if (got.join('\n') === want.join('\n')) return;
        const missing = want.filter((r) => !got.includes(r)).map((r) => r.split(':')[0]);
        const extra = got.filter((r) => !want.includes(r)).map((r) => r.split(':')[0]);
        problems.push(`${what} holds ${got.length} rows, expected ${want.length}${missing.length ? `; missing ids ${missing.slice(0, 12).join(',')}` : ''}${extra.length ? `; ids it must not hold ${extra.slice(0, 12).join(',')}` : ''}`);
      };
      differs(`the sink ${sinkPath(cellDir, cell.sink)}`, o.main, rest);
      if (cell.shape !== 'line') differs('the second sink', o.second ?? [], secondDownstream ? rest : [...all].sort());
      if (action === 'skip') {
        if (o.rejects !== null) problems.push(`skip wrote a dead-letter output (${o.rejects.length} rows)`);
        return problems;
      }
      if (o.rejects === null) return [...problems, `no dead-letter output at ${deadLetterPath(cellDir, cell.sink)}`];
      const ids = o.rejects.map((r) => r.id).sort((a, b) => a - b);
      if (ids.join() !== rejected.join()) problems.push(`the dead-letter output holds ids ${ids.slice(0, 12).join(',')}${ids.length > 12 ? `… (${ids.length})` : ''}, expected ${rejected.slice(0, 12).join(',')}${rejected.length > 12 ? `… (${rejected.length})` : ''}`);
      for (const r of o.rejects) {
        const wrong: string[] = [];
        if (r.file !== input) wrong.push(`file ${r.file}, expected ${input}`);
        if (!reason.test(r.reason)) wrong.push(`reason ${JSON.stringify(r.reason)} does not say ${reason}`);
        if (place === 'source') {
          if (r.origin !== 'source') wrong.push(`origin ${r.origin}`);
          if (r.line !== BAD_LINE) wrong.push(`line ${r.line}, expected ${BAD_LINE}`);
          if (cell.family === 'source' && cell.fault === 'bad-value' && r.column !== 'x') wrong.push(`column ${r.column}, expected x (the value "oops")`);
          const line = inputRows()[r.id]?.join(',');
          if (r.raw?.replace(/\r?\n$/, '') !== (cell.family === 'source' && cell.fault === 'ragged-row' ? `${line},extra` : line?.replace(/,[^,]*,([^,]*)$/, ',oops,$1'))) wrong.push(`raw ${JSON.stringify(r.raw?.slice(0, 40))}…, not the line as read`);
        } else {
          if (r.origin !== 'stage' || r.stage !== 'boom') wrong.push(`origin ${r.origin}, stage ${r.stage}, expected stage boom`);
          // the row's number in the input file (1-based, header not counted): the stage's rows are the file's, one to one
          if (r.row !== r.id + 1) wrong.push(`row ${r.row}, expected ${r.id + 1}`);
        }
        if (wrong.length) {
          problems.push(`dead-letter row id ${r.id}: ${wrong.join('; ')}`);
          break; // one is enough to see what is wrong
        }
      }
      return problems;
    },
  };
}

const num = (v: unknown) => (v === null || v === undefined || v === '' ? null : Number(v));
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** Rows of an output (selected columns, as JSON-friendly values): DuckDB, or apache-arrow for an Arrow IPC file. */
async function rowsOf(kind: SinkKind, target: string, columns: string[]): Promise<Record<string, unknown>[]> {
  if (kind === 'arrow') {
    const table = tableFromIPC(readFileSync(target));
    return table.toArray().map((r: { toJSON(): Record<string, unknown> }) => {
      const o = r.toJSON();
      return Object.fromEntries(columns.map((c) => [c, typeof o[c] === 'bigint' ? String(o[c]) : o[c]]));
    });
  }
  const from = {
    parquet: `read_parquet('${target}')`,
    // every column as text: the reader must not guess types from the values
    csv: `read_csv('${target}', header = true, all_varchar = true)`,
    ndjson: `read_json('${target}', format = 'newline_delimited')`,
    'partitioned-parquet': `read_parquet('${target}/*/*.parquet', hive_partitioning = true)`,
  }[kind];
  return duckRows(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM ${from}`);
}

const idPads = async (kind: SinkKind, target: string) => (await rowsOf(kind, target, ['id', 'pad'])).map((r) => `${r.id}:${r.pad}`).sort();

/** What the cell's outputs hold (its run exited 0). */
export async function readOutputs(cell: MatrixCell, cellDir: string): Promise<Outputs> {
  const main = await idPads(cell.sink, sinkPath(cellDir, cell.sink));
  const second = cell.shape === 'line' ? undefined : await idPads('ndjson', secondSinkPath(cellDir));
  const dead = deadLetterPath(cellDir, cell.sink);
  let rejects: RejectRow[] | null = null;
  if (existsSync(dead)) {
    const kind = cell.sink === 'partitioned-parquet' ? 'parquet' : cell.sink;
    // An empty NDJSON or CSV file has no columns to read: no rows.
    const empty = (kind === 'ndjson' || kind === 'csv') && readFileSync(dead, 'utf8').trim().split('\n').length <= (kind === 'csv' ? 1 : 0);
    const rows = empty ? [] : await rowsOf(kind, dead, ['origin', 'stage', 'file', 'line', 'row', 'column', 'raw', 'reason', 'values']);
    rejects = rows.map((r) => ({
      id: Number((JSON.parse(String(r.values)) as { id?: unknown }).id ?? String(r.raw).split(',')[0]),
      origin: String(r.origin),
      stage: str(r.stage),
      file: str(r.file),
      line: num(r.line),
      row: num(r.row),
      column: str(r.column),
      raw: str(r.raw),
      reason: String(r.reason),
    }));
  }
  return { main, ...(second && { second }), rejects };
}
