/**
 * `sluice recover [config]`: finish or clean up what a dead run left at the config's sink
 * targets, without running anything. A commit of several outputs killed half-way is rolled
 * forward from its journal (io/sinks/journal.ts), a directory output moved aside is put back,
 * dead runs' temporaries are removed: what the next run would do when it opens them. Only the
 * sink paths are needed, so the config is loaded and its params resolved, and nothing else is
 * checked (a source that is gone, or a stage that no longer loads, does not stop a recovery).
 */
import path from 'node:path';
import { loadWithOverrides } from '../config';
import { computeFromParams } from '../config/from-params';
import { resolveParams } from '../config/params';
import { ConfigError, type ConfigIssue } from '../errors';
import { recoverTargets } from '../io/sinks/recover';
import { remotePathProblem } from '../config/files';

export interface RecoverArgs {
  config: string;
  'sink-path'?: string;
  set?: string[];
}

/** Recover every sink target of the config; returns the lines to print. */
export async function recoverCommand(args: RecoverArgs): Promise<string[]> {
  const loaded = await loadWithOverrides(args.config, { sinkPath: args['sink-path'], set: args.set });
  const resolved = resolveParams((loaded.raw as { params?: unknown } | null)?.params, args.set);
  const computed = await computeFromParams(loaded.raw, resolved.params);
  const issues: ConfigIssue[] = [...loaded.overrideIssues, ...resolved.issues, ...computed.issues];
  const paths = sinkPaths(computed.config, issues);
  if (issues.length) throw new ConfigError(issues, loaded.file);
  const results = await recoverTargets(paths.map((p) => path.resolve(loaded.baseDir, p)), { pipeline: 'sluice recover' });
  return results.flatMap(({ target, done }) => (done.length ? done.map((d) => `✔ ${d}`) : [`✔ ${target}: nothing to recover`]));
}

/** `sink.path`, and each of `sinks[].path` where a config has several sinks. */
function sinkPaths(config: unknown, issues: ConfigIssue[]): string[] {
  const c = (config ?? {}) as { sink?: { path?: unknown }; sinks?: unknown };
  const out: string[] = [];
  const take = (p: unknown, where: string) => {
    if (typeof p === 'string' && remotePathProblem(p)) issues.push({ path: where, message: remotePathProblem(p)! });
    else if (typeof p === 'string' && p !== '') out.push(p);
    else issues.push({ path: where, message: 'must be a file path: `sluice recover` recovers the sink paths of the config' });
  };
  if (c.sink !== undefined) take(c.sink?.path, 'sink.path');
  if (Array.isArray(c.sinks)) c.sinks.forEach((s: { path?: unknown } | undefined, i) => take(s?.path, `sinks[${i}].path`));
  if (c.sink === undefined && !Array.isArray(c.sinks)) issues.push({ path: 'sink', message: 'the config names no sink: there is nothing to recover' });
  return out;
}
