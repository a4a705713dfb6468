/**
 * Sink outputs for the commit tests: previous outputs made by hand (not by sluice), a batch
 * to write, what every kind of output holds read back by readers other than sluice (DuckDB;
 * apache-arrow for Arrow IPC files), and a byte-exact picture of a folder.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays, tableToIPC, tableFromIPC, type RecordBatch } from 'apache-arrow';
import type { SinkConfig } from '../../src/config/types';
import { duckRows } from './duckdb';

export type OutputKind = 'parquet' | 'csv' | 'ndjson' | 'arrow' | 'dir-csv' | 'dir-parquet';
export type OutputMode = 'overwrite' | 'error-if-exists' | 'append';
export const OUTPUT_KINDS: OutputKind[] = ['parquet', 'csv', 'ndjson', 'arrow', 'dir-csv', 'dir-parquet'];
export const OUTPUT_MODES: OutputMode[] = ['overwrite', 'error-if-exists', 'append'];

export const OLD_X = [1, 2];
export const NEW_X = [10, 11, 12];

/** A batch of `x` (int32) and `g` (the partition column of directory outputs). */
export function batchOf(xs: number[]): RecordBatch {
  return tableFromArrays({ x: Int32Array.from(xs), g: xs.map((x) => (x % 2 ? 'a' : 'b')) }).batches[0];
}

export function sinkConfig(kind: OutputKind, target: string, mode: OutputMode): SinkConfig {
  const dir = kind.startsWith('dir-');
  return { format: (dir ? kind.slice(4) : kind) as SinkConfig['format'], path: target, mode, ...(dir && { partitionBy: ['g'] }) };
}

/** A previous output holding OLD_X, written without sluice (DuckDB, apache-arrow, plain text). */
export async function writeOld(kind: OutputKind, target: string): Promise<void> {
  const values = OLD_X.map((x) => `(${x}::INTEGER, '${x % 2 ? 'a' : 'b'}')`).join(', ');
  const select = `SELECT * FROM (VALUES ${values}) t(x, g)`;
  if (kind === 'csv') writeFileSync(target, `x,g\n${OLD_X.map((x) => `${x},${x % 2 ? 'a' : 'b'}`).join('\n')}\n`);
  else if (kind === 'ndjson') writeFileSync(target, OLD_X.map((x) => JSON.stringify({ x, g: x % 2 ? 'a' : 'b' }) + '\n').join(''));
  else if (kind === 'arrow') writeFileSync(target, tableToIPC(tableFromArrays({ x: Int32Array.from(OLD_X), g: OLD_X.map((x) => (x % 2 ? 'a' : 'b')) }), 'file'));
  else if (kind === 'parquet') await duckRows(`COPY (${select}) TO '${target}' (FORMAT parquet)`);
  else {
    mkdirSync(target, { recursive: true });
    const format = kind.slice(4);
    await duckRows(`COPY (${select}) TO '${target}' (FORMAT ${format}, PARTITION_BY (g), OVERWRITE_OR_IGNORE)`);
  }
}

/** The `x` values an output holds, sorted, read by DuckDB (apache-arrow for Arrow IPC files). */
export async function readX(kind: OutputKind, target: string): Promise<number[]> {
  let xs: number[];
  if (kind === 'arrow') xs = [...tableFromIPC(readFileSync(target)).getChild('x')!.toArray()].map(Number);
  else {
    const from = {
      parquet: `read_parquet('${target}')`,
      csv: `read_csv('${target}', header = true)`,
      ndjson: `read_json('${target}', format = 'newline_delimited')`,
      'dir-csv': `read_csv('${target}/*/*.csv', header = true, hive_partitioning = true)`,
      'dir-parquet': `read_parquet('${target}/*/*.parquet', hive_partitioning = true)`,
    }[kind];
    xs = (await duckRows(`SELECT x FROM ${from}`)).map((r) => Number(r.x));
  }
  return xs.sort((a, b) => a - b);
}

/** Every entry under `dir`, hidden ones too, with its bytes (directories as `/`). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const rel = path.relative(dir, p);
      if (statSync(p).isDirectory()) {
        out[rel] = '/';
        walk(p);
      } else out[rel] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}
