/** A live progress display on a TTY: a progress line, then one aligned line per stage, redrawn in place. */
import type { ProgressSnapshot } from '../runtime/types';
import { bytes, count, ms } from './format';
import { safeLine } from './terminal-text';

/** Names longer than this are cut (with …) so one long name does not push every column off screen. */
const MAX_NAME = 32;

export class ProgressDisplay {
  /** Lines on the terminal now (what the next redraw moves up over). */
  private lines = 0;
  /** What the display shows, to draw again after something else was written. */
  private shown: string[] | undefined;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(s: ProgressSnapshot): void {
    this.show(renderProgress(s));
  }

  /** Draw `lines` in place of what is shown (also the cluster driver's display, cli/cluster-progress.ts). */
  show(lines: string[]): void {
    // Stage and file names come from the config and the data: shown terminal-safe, inside our own redraw sequences.
    this.shown = lines.map(safeLine);
    this.erase();
    this.draw(this.shown);
  }

  /**
   * Write something else to the same terminal (a log line) without breaking the redraw: the
   * display is erased, `write` runs, the display is drawn again below it. A line written past
   * the display instead would not be counted, and the next redraw would move up too few lines,
   * leaving the top of the old display on the screen (what a run with a log line did).
   */
  around(write: () => void): void {
    this.erase();
    write();
    if (this.shown) this.draw(this.shown);
  }

  /** Erase what was drawn for good (before the final report). */
  clear(): void {
    this.erase();
    this.shown = undefined;
  }

  private draw(text: string[]): void {
    this.out.write(text.join('\n') + '\n');
    this.lines = text.length;
  }

  private erase(): void {
    if (this.lines > 0) this.out.write(`\x1b[${this.lines}A\x1b[0J`);
    this.lines = 0;
  }
}

/** The display's lines for one snapshot (a pure function, so it is tested without a terminal). */
export function renderProgress(s: ProgressSnapshot): string[] {
  const rows: string[][] = [
    ['source', `${count(s.source.rows)} rows`, '', '', '', s.source.done ? 'done' : ''],
    ...s.stages.map((st) => [
      st.name,
      `${count(st.rowsOut)} rows`,
      `${count(st.rowsPerSec)} rows/s`,
      `queue ${st.queueDepth}`,
      `busy ${st.busy}/${st.copies}${st.inFlight > st.busy ? ` +${st.inFlight - st.busy} queued` : ''}`,
      st.done ? 'done' : (st.waitReason ?? ''),
    ]),
    ['sink', `${count(s.sink.rows)} rows`, '', `queue ${s.sink.queueDepth}`, '', encoderWords(s.sink.encoder)],
  ].map((r) => [cut(r[0]), ...r.slice(1)]);
  return [headline(s), ...align(rows)];
}

/** `encoder busy 87%, sink waits 12% for a slot`: the Parquet encoder over the last interval. */
function encoderWords(e: ProgressSnapshot['sink']['encoder']): string {
  if (!e) return '';
  return `encoder busy ${e.busyPercent}%${e.waitPercent > 0 ? `, sink waits ${e.waitPercent}% for a slot` : ''}`;
}

/** Percent of the input read and the time left at the rate so far, then the time elapsed. */
export function headline(s: ProgressSnapshot): string {
  const parts: string[] = [];
  const input = s.input;
  if (input && input.totalBytes > 0) {
    const read = Math.min(input.bytesRead, input.totalBytes);
    parts.push(`${((read / input.totalBytes) * 100).toFixed(1)}% of ${bytes(input.totalBytes)} read`);
    if (read > 0 && read < input.totalBytes && s.elapsedMs > 0) parts.push(`ETA ${ms(((input.totalBytes - read) * s.elapsedMs) / read)}`);
  }
  parts.push(`${ms(s.elapsedMs)} elapsed`);
  return parts.join('  ·  ');
}

function cut(name: string): string {
  return name.length > MAX_NAME ? name.slice(0, MAX_NAME - 1) + '…' : name;
}

/** Columns padded to their widest cell: the name left-aligned, counts right-aligned, the reason as is. */
function align(rows: string[][]): string[] {
  const last = rows[0].length - 1;
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : c === last || c === 4 ? cell.padEnd(c === last ? 0 : widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}
