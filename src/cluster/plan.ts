/**
 * The plan of a cluster run, built the same way by the driver and by every worker from the
 * config's path (shared storage) and the driver's overrides, and what refuses a pipeline that
 * cannot run on many machines yet: paths that are relative (each machine would resolve them
 * in its own working directory), unordered output. A deadLetter output's rows are staged
 * per unit and committed by the commit job with the other sinks. Stages with flush() (an aggregate) run in the commit job, over every unit's output
 * at the cut before the first of them (runtime/unit-cut.ts), as a resumable run's job commit
 * runs them.
 */
import path from 'node:path';
import { resolveChecked } from '../check';
import { buildPlan, withDeclarations } from '../plan/build';
import type { Plan } from '../plan/types';
import { ConfigError } from '../errors';
import { resolveInputs } from '../io/sources';
import type { ClusterOverrides } from './jobs';

export interface ClusterPlan {
  plan: Plan;
  /** Every input file, in unit order. */
  files: string[];
}

export async function clusterPlan(config: string, overrides: ClusterOverrides): Promise<ClusterPlan> {
  const resolved = await resolveChecked(config, overrides, { readErrors: false });
  // The cluster cuts the run into units itself (one per input file): resumable's own staging is not used.
  resolved.config.resumable = false;
  const plan = withDeclarations(buildPlan(resolved.config, resolved), resolved);
  refuseUnshareable(plan);
  const files = resolveInputs(plan.source.path, plan.source.baseDir);
  return { plan, files };
}

function refuseUnshareable(plan: Plan): void {
  const issues: { path: string; message: string }[] = [];
  const shared = 'in cluster mode every machine must see the same files at the same path (a shared filesystem), so paths must be absolute';
  const sourcePaths = Array.isArray(plan.source.path) ? plan.source.path : [plan.source.path];
  for (const p of sourcePaths) if (!path.isAbsolute(p)) issues.push({ path: 'source.path', message: `"${p}" is relative: ${shared}` });
  for (const [k, s] of plan.sinks.entries()) {
    if (!path.isAbsolute(s.config.path)) issues.push({ path: plan.sinks.length > 1 ? `sinks[${k}].path` : 'sink.path', message: `"${s.config.path}" is relative: ${shared}` });
  }
  if (plan.deadLetter && !path.isAbsolute(plan.deadLetter.path)) issues.push({ path: 'deadLetter.path', message: `"${plan.deadLetter.path}" is relative: ${shared}` });
  if (plan.source.incremental) issues.push({ path: 'source.incremental', message: 'a cluster run cannot be incremental yet (its units are not checked against the state of earlier runs): run this pipeline without --cluster' });
  if (!plan.ordered) issues.push({ path: 'ordered', message: 'a cluster run stages each unit in order (ordered: true, the default)' });
  if (issues.length) throw new ConfigError(issues, plan.configFile);
}
