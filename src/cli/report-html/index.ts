/** `--report <file>`: JSON, or with a `.html` name a self-contained page; written whole (temporary sibling, then rename). */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { RunReport } from '../../runtime/types';
import { renderHtmlReport } from './page';

/** `beforeRename`: called with the temporary, written whole, just before it is renamed to `file`. */
export function writeRunReport(file: string, report: RunReport, beforeRename?: (tmp: string) => void): void {
  const text = /\.html?$/i.test(file) ? renderHtmlReport(report) : JSON.stringify(report, null, 2) + '\n';
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    beforeRename?.(tmp);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}
