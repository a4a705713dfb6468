/** `--report <file>`: JSON, or with a `.html` name a self-contained page; written whole (temporary sibling, then rename). */
import type { RunReport } from '../../runtime/types';
import { renderHtmlReport } from './page';
import { PRIVATE_MODE, writeWholeFile } from '../whole-file';

/** `beforeRename`: called with the temporary, written whole, just before it is renamed to `file`. */
export function writeRunReport(file: string, report: RunReport, beforeRename?: (tmp: string) => void): void {
  const text = /\.html?$/i.test(file) ? renderHtmlReport(report) : JSON.stringify(report, null, 2) + '\n';
  // It holds the params (possibly secrets from the environment): created 0600 (whole-file.ts).
  writeWholeFile(file, text, PRIVATE_MODE, beforeRename);
}
