/**
 * Checks that what the config points at exists: source files (globs) and stage modules.
 * Works on the config as written, valid or not, so a wrong value elsewhere never hides a
 * missing file: every entry that is a usable path is checked.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../errors';
import { expandInputs, matchInputsAndLoops, outputPathProblem, patternNames, remotePathProblem, statIfAny } from '../inputs';
import type { SinkConfig } from './types';
import { sinkSections } from './graph';

export { expandInputs, remotePathProblem };

const isPath = (v: unknown): v is string => typeof v === 'string' && v !== '';

export function checkFiles(raw: unknown, baseDir: string): ConfigIssue[] {
  const config = (raw ?? {}) as { source?: { path?: unknown }; stages?: unknown };
  const issues: ConfigIssue[] = [];
  const sourcePath = config.source?.path;
  const patterns = Array.isArray(sourcePath) ? sourcePath : [sourcePath];
  const remoteSinks = sinkSections(raw).flatMap(({ where, sink }) => (sink && isPath(sink.path) && remotePathProblem(sink.path) ? [{ path: `${where}.path`, message: remotePathProblem(sink.path)! }] : []));
  issues.push(...remoteSinks);
  const sinks = sinkSections(raw).flatMap(({ where, sink }) =>
    sink && isPath(sink.path) && !remotePathProblem(sink.path) ? [{ where, sink: sink as Partial<SinkConfig>, target: path.resolve(baseDir, sink.path) }] : [],
  );
  const format = (config.source as { format?: unknown } | undefined)?.format;
  patterns.forEach((p, i) => {
    if (!isPath(p)) return;
    const where = Array.isArray(sourcePath) ? `source.path[${i}]` : 'source.path';
    const remote = remotePathProblem(p);
    if (remote) return void issues.push({ path: where, message: remote });
    const { files, loops } = matchInputsAndLoops(p, baseDir);
    const abs = path.resolve(baseDir, p);
    if (loops.length) issues.push({ path: where, message: loopMessage(p, loops) });
    if (statIfAny(abs)?.isDirectory()) issues.push({ path: where, message: `${abs} is a directory; name its files or a glob such as "${path.join(p, '*.' + String(format ?? 'csv'))}"` });
    else if (files.length === 0) issues.push({ path: where, message: `no file matches "${p}" (resolved to ${abs})` });
    for (const { where: at, sink, target } of sinks) {
      const own = sinkOutputReadBack(p, baseDir, files, target, sink);
      if (!own) continue;
      issues.push({
        path: where,
        message: `"${p}" also names the sink's output ${own} (${at}.path "${sink.path}" → ${target}): every run would read the output of the one before; write the output outside the inputs or narrow the pattern`,
      });
    }
  });
  for (const { where, target } of sinks) {
    const problem = outputPathProblem(target);
    if (problem) issues.push({ path: `${where}.path`, message: `cannot write ${target}: ${problem}` });
  }
  issues.push(...overlappingSinks(sinks));
  stageModules(raw, baseDir).forEach(({ index, file }) => {
    if (!existsSync(file)) issues.push({ path: `stages[${index}].module`, message: `file not found: ${file}` });
  });
  return issues;
}

/**
 * Two sinks of one run on one path, or one inside the other's directory: each would replace
 * or move the other's output at commit. Refused before anything is written.
 */
function overlappingSinks(sinks: { where: string; target: string }[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  sinks.forEach((b, j) => {
    const a = sinks.slice(0, j).find((a) => a.target === b.target || b.target.startsWith(a.target + path.sep) || a.target.startsWith(b.target + path.sep));
    if (!a) return;
    const how = a.target === b.target ? 'the same path as' : 'a path inside (or around) that of';
    issues.push({ path: `${b.where}.path`, message: `${b.target} is ${how} ${a.where} (${a.target}): each sink of a run writes a path of its own` });
  });
  return issues;
}

/** A glob through a symlink loop would reach each file below it again and again (each is read once, but the loop is a mistake). */
export function loopMessage(pattern: string, loops: readonly string[]): string {
  const shown = loops.slice(0, 3).map((l) => `${l} -> ${realTarget(l)}`);
  return `"${pattern}" goes round a symlink loop: ${shown.join(', ')}${loops.length > 3 ? ` and ${loops.length - 3} more` : ''} (a link to a folder that holds it); remove the link or narrow the pattern so it does not go through it`;
}

function realTarget(link: string): string {
  try {
    return realpathSync(link);
  } catch {
    return '?';
  }
}

/**
 * The first sink output that the source pattern reads: a file it matches now that is the
 * target or lies inside it (a partitioned directory), or the target (or a file of the
 * partition tree) the pattern would match once the run has committed.
 */
function sinkOutputReadBack(pattern: string, baseDir: string, files: string[], target: string, sink: Partial<SinkConfig>): string | undefined {
  const inside = files.find((f) => f === target || f.startsWith(target + path.sep));
  if (inside) return inside;
  const future = sink.partitionBy
    ? [path.join(target, ...sink.partitionBy.map((c) => `${c}=x`), `part-00000-00000000.${sink.format}`), path.join(target, '_SUCCESS')]
    : [target];
  return future.find((f) => patternNames(pattern, baseDir, f));
}

/** Absolute module path of every stage entry that names one, with its index. */
export function stageModules(raw: unknown, baseDir: string): { index: number; file: string }[] {
  const stages = (raw as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return [];
  return stages.flatMap((s: unknown, index) => {
    const module = (s as { module?: unknown } | null)?.module;
    return isPath(module) ? [{ index, file: path.resolve(baseDir, module) }] : [];
  });
}
