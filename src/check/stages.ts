/**
 * Stage modules, loaded by the loader every copy uses (worker/load.ts) and checked before
 * anything starts: the module imports, its default export is a stage, and a stage that
 * keeps state until `flush` runs as one copy unless it is keyed (`key`), combines its copies'
 * partials or declares its output per copy.
 */
import { existsSync } from 'node:fs';
import { stageModules } from '../config/files';
import type { ConfigIssue } from '../errors';
import type { StageDefinition } from '../worker/api';
import { loadStageDefinition } from '../worker/load';

/** Issues of the stage modules, and the definitions that loaded (by stage index: the column checks read their declarations). */
export async function stageIssues(raw: unknown, original: unknown, baseDir: string): Promise<{ issues: ConfigIssue[]; definitions: Map<number, StageDefinition> }> {
  const issues: ConfigIssue[] = [];
  const definitions = new Map<number, StageDefinition>();
  for (const { index, file } of stageModules(raw, baseDir)) {
    if (!existsSync(file)) continue; // reported as a missing file
    let definition;
    try {
      definition = await loadStageDefinition(file);
    } catch (err) {
      issues.push({ path: `stages[${index}].module`, message: (err as Error).message });
      continue;
    }
    definitions.set(index, definition);
    const copies = concurrencyOf(raw, index);
    // A keyed stage's copies each see every row of their keys: each one's flush is complete for its keys.
    // (A key of the wrong shape is the schema's issue, not this one.)
    const keyed = (stageAt(raw, index) as { key?: unknown } | undefined)?.key !== undefined;
    if (typeof definition.flush === 'function' && copies > 1 && !keyed && definition.perCopyFlush !== true && typeof definition.combine !== 'function') {
      const name = String((stageAt(raw, index) as { name?: unknown }).name);
      const overridden = concurrencyOf(original, index) !== copies ? ' (set by --concurrency)' : '';
      issues.push({ path: `stages[${index}].concurrency`, message: statefulCopies(name, copies) + overridden });
    }
  }
  return { issues, definitions };
}

export function statefulCopies(stage: string, copies: number): string {
  return (
    `stage "${stage}" has flush() (it keeps state across batches); with ${copies} copies each copy would flush its own partial result. ` +
    'Use concurrency: 1, give it key: [columns] in its config entry so that every row of a key goes to one copy (a per-key aggregate), give it a combine(partials) that merges the copies’ results, or declare perCopyFlush: true in its defineStage({ … }) if each copy’s output is complete on its own'
  );
}

function stageAt(raw: unknown, index: number): unknown {
  const stages = (raw as { stages?: unknown } | null)?.stages;
  return Array.isArray(stages) ? stages[index] : undefined;
}

/** The copies a stage entry asks for (1 when absent or not a number: the schema reports that). */
function concurrencyOf(raw: unknown, index: number): number {
  const c = (stageAt(raw, index) as { concurrency?: unknown } | undefined)?.concurrency;
  return typeof c === 'number' && Number.isInteger(c) ? c : 1;
}
