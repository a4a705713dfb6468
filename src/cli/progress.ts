/** A live progress display on a TTY: one line per stage, redrawn in place. */
import type { ProgressSnapshot } from '../runtime/types';
import { count } from './format';

export class ProgressDisplay {
  private lines = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(s: ProgressSnapshot): void {
    const text = [
      `source   ${count(s.source.rows).padStart(12)} rows ${s.source.done ? '(done)' : ''}  ${(s.elapsedMs / 1000).toFixed(1)} s`,
      ...s.stages.map(
        (st) => `${st.name.padEnd(8).slice(0, 20)} ${count(st.rowsOut).padStart(12)} rows  ${count(st.rowsPerSec).padStart(10)} rows/s  queue ${st.queueDepth}  busy ${st.inFlight}/${st.copies}`,
      ),
      `sink     ${count(s.sink.rows).padStart(12)} rows  queue ${s.sink.queueDepth}`,
    ];
    this.clear();
    this.out.write(text.join('\n') + '\n');
    this.lines = text.length;
  }

  /** Erase what was drawn (before the final report or a log line). */
  clear(): void {
    if (this.lines > 0) this.out.write(`\x1b[${this.lines}A\x1b[0J`);
    this.lines = 0;
  }
}
