/**
 * The plan of a cluster run, built the same way by the driver and by every worker from the
 * config's path (shared storage) and the driver's overrides, and what refuses a pipeline that
 * cannot run on many machines yet: paths that are relative (each machine would resolve them
 * in its own working directory), a deadLetter output or a stage with flush() (neither is
 * staged per unit yet), unordered output.
 */
import path from 'node:path';
import { resolveChecked } from '../check';
import { buildPlan, withDeclarations } from '../plan/build';
import type { Plan } from '../plan/types';
import { ConfigError } from '../errors';
import { resolveInputs } from '../io/sources';
import { loadStageDefinition } from '../worker/load';
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
  await refuseStateful(plan);
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
  if (plan.deadLetter) issues.push({ path: 'deadLetter', message: 'a deadLetter output is not staged per unit yet, so a cluster run cannot have one: run this pipeline without --cluster, or use onError: "skip"' });
  if (!plan.ordered) issues.push({ path: 'ordered', message: 'a cluster run stages each unit in order (ordered: true, the default)' });
  if (issues.length) throw new ConfigError(issues, plan.configFile);
}

/** A stage with flush() keeps state across units (an aggregate): each worker would flush only its own units. */
async function refuseStateful(plan: Plan): Promise<void> {
  for (const stage of plan.stages) {
    for (const m of [stage, ...(stage.fused ?? [])]) {
      if (!m.modulePath) continue; // sluice's own stages (partitioning, Parquet encoding) end their state at unit edges
      const definition = await loadStageDefinition(m.modulePath);
      if (typeof definition.flush === 'function') {
        throw new ConfigError([{ path: 'cluster', message: `stage "${m.name}" has flush() (it keeps state across batches, e.g. an aggregate): each worker would flush only the units it ran. Cluster runs support stages without flush() only for now; run this pipeline without --cluster` }], plan.configFile);
      }
    }
  }
}
