/**
 * Column names a config uses, checked against the columns the source has (its first file's
 * header, footer or first lines: io/sources/probe.ts): the source's own keys here, those of
 * stages and the sink in columns-downstream.ts.
 */
import { closest } from '../config/closest';
import { parseSource } from '../config/validate';
import { expandInputs } from '../inputs';
import { SluiceError, type ConfigIssue } from '../errors';
import { probeColumns, type SourceColumns } from '../io/sources/probe';
import { BATCH_ROWS } from '../defaults';

/**
 * `readErrors`: whether a first file that cannot be read (a ragged row, a bad footer) is an
 * issue here. `run` leaves it to the run itself, which fails on the same read with the
 * source's own error, code and run report.
 */
export async function columnIssues(raw: unknown, baseDir: string, readErrors = true): Promise<{ issues: ConfigIssue[]; columns?: SourceColumns }> {
  const source = parseSource(raw);
  if (!source) return { issues: [] }; // its own issues are reported by the schema
  const issues: ConfigIssue[] = [];
  const files = expandInputs(source.path, baseDir);
  if (files.length === 0) return { issues }; // reported as a missing file
  let columns: SourceColumns | undefined;
  try {
    // `run` (readErrors false) needs only the names: a CSV's header, not its first 64k rows.
    columns = await probeColumns(files[0], { ...source, path: files[0], batchRows: source.batchRows ?? BATCH_ROWS }, { namesOnly: !readErrors });
  } catch (err) {
    if (!readErrors) return { issues };
    // A SourceError names the file (and line) itself.
    const message = err instanceof SluiceError ? err.message : `${files[0]}: ${(err as Error).message}`;
    return { issues: [...issues, { path: 'source.path', message: `cannot read the source's columns: ${message}` }] };
  }
  if (!columns) return { issues }; // an empty file: no columns to check against
  const names = columns.names;
  const check = (path: string, name: string) => {
    if (!names.includes(name)) issues.push({ path, message: missingColumn(name, columns) });
  };
  source.columns?.forEach((c, i) => check(`source.columns[${i}]`, c));
  if (source.format === 'csv') Object.keys(source.schema ?? {}).forEach((c) => check(`source.schema.${c}`, c));
  return { issues, columns };
}

/** `column "dy" is not in the source (columns: day, id, …; did you mean "day"?); read from <file>` */
export function missingColumn(name: string, columns: SourceColumns): string {
  const shown = columns.names.slice(0, 12).join(', ') + (columns.names.length > 12 ? `, … ${columns.names.length - 12} more` : '');
  const hint = closest(name, columns.names);
  return `column "${name}" is not in the source (columns: ${shown}${hint ? `; did you mean "${hint}"?` : ''}); read from ${columns.file}`;
}
