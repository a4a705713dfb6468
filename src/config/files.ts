/** Checks that what the config points at exists: source files (globs) and stage modules. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../errors';
import { expandInputs, matchInputs, outputPathProblem, patternNames, statIfAny } from '../inputs';
import type { PipelineConfig, SinkConfig } from './types';

export { expandInputs };

export function checkFiles(config: PipelineConfig, baseDir: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const patterns = Array.isArray(config.source.path) ? config.source.path : [config.source.path];
  const sinkTarget = path.resolve(baseDir, config.sink.path);
  patterns.forEach((p, i) => {
    const where = Array.isArray(config.source.path) ? `source.path[${i}]` : 'source.path';
    const files = matchInputs(p, baseDir);
    const abs = path.resolve(baseDir, p);
    if (statIfAny(abs)?.isDirectory()) issues.push({ path: where, message: `${abs} is a directory; name its files or a glob such as "${path.join(p, '*.' + config.source.format)}"` });
    else if (files.length === 0) issues.push({ path: where, message: `no file matches "${p}" (resolved to ${abs})` });
    const own = sinkOutputReadBack(p, baseDir, files, sinkTarget, config.sink);
    if (own) {
      issues.push({
        path: where,
        message: `"${p}" also names the sink's output ${own} (sink.path "${config.sink.path}" → ${sinkTarget}): every run would read the output of the one before; write the output outside the inputs or narrow the pattern`,
      });
    }
  });
  const sinkProblem = outputPathProblem(sinkTarget);
  if (sinkProblem) issues.push({ path: 'sink.path', message: `cannot write ${sinkTarget}: ${sinkProblem}` });
  config.stages.forEach((s, i) => {
    const abs = path.resolve(baseDir, s.module);
    if (!existsSync(abs)) issues.push({ path: `stages[${i}].module`, message: `file not found: ${abs}` });
  });
  return issues;
}

/**
 * The first sink output that the source pattern reads: a file it matches now that is the
 * target or lies inside it (a partitioned directory), or the target (or a file of the
 * partition tree) the pattern would match once the run has committed.
 */
function sinkOutputReadBack(pattern: string, baseDir: string, files: string[], target: string, sink: SinkConfig): string | undefined {
  const inside = files.find((f) => f === target || f.startsWith(target + path.sep));
  if (inside) return inside;
  const future = sink.partitionBy
    ? [path.join(target, ...sink.partitionBy.map((c) => `${c}=x`), `part-00000-00000000.${sink.format}`), path.join(target, '_SUCCESS')]
    : [target];
  return future.find((f) => patternNames(pattern, baseDir, f));
}
