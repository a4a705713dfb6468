/** Temporary pipeline workspaces for e2e tests: a CSV input and a generated config. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './cli';

export const FIXTURE_STAGES = path.join(REPO, 'test/fixtures/stages');

export interface Workspace {
  dir: string;
  /** Write `pipeline.config.ts` (or `name`) from a config object; returns its path. */
  config(config: unknown, name?: string): string;
  /** Files (recursively, relative) under the workspace's `out/` directory. */
  outFiles(): string[];
  cleanup(): void;
}

export function workspace(prefix = 'sluice-e2e-'): Workspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    config(config, name = 'pipeline.config.ts') {
      const file = path.join(dir, name);
      writeFileSync(file, `import { definePipeline } from 'sluice';\nexport default definePipeline(${JSON.stringify(config, null, 2)} as const);\n`);
      return file;
    },
    outFiles() {
      try {
        return readdirSync(path.join(dir, 'out'), { recursive: true }).map(String).sort();
      } catch {
        return [];
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A CSV with `rows` rows: id, name (text), x (float), day (date text). Deterministic. */
export function writeNumbersCsv(file: string, rows: number): void {
  const lines = ['id,name,x,day'];
  for (let i = 0; i < rows; i++) lines.push(`${i},n${i % 97},${(i * 0.25).toFixed(2)},2026-11-${String(1 + (i % 28)).padStart(2, '0')}`);
  writeFileSync(file, lines.join('\n') + '\n');
}
