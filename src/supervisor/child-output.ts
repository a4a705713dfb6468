/**
 * A child's stdout and stderr: every line is forwarded as a log line (pino JSON lines
 * re-emitted as records, plain text at info for stdout / warn for stderr), and the last
 * plain stderr lines — a crash's stack trace — are kept for the error message.
 */
import type { ChildProcess } from 'node:child_process';
import { RUNNING_TASK } from '../protocol/process';

/** Non-log stderr lines kept for the error message when the child dies. */
const TAIL_LINES = 12;
/** Longest unterminated line held back; longer text is forwarded in pieces. */
const MAX_LINE_CHARS = 64 * 1024;

export interface OutputTail {
  /** The last plain stderr lines, oldest first. */
  lines(): string[];
  keep(line: string): void;
}

/** `onRunning`: the child started a task (protocol RUNNING_TASK); such lines are not logged. */
export function watchOutput(proc: ChildProcess, forward: (line: string, level: 'info' | 'warn') => void, onRunning?: (taskId: number) => void): OutputTail {
  const tail: string[] = [];
  const keep = (line: string) => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const stdout = proc.stdout!;
  const stderr = proc.stderr!;
  stdout.setEncoding('utf8');
  stderr.setEncoding('utf8');
  const out = lineSplitter((line) => forward(line, 'info'));
  const err = lineSplitter((line) => {
    if (line === '') return; // the child puts a newline before each task marker
    if (line.startsWith(RUNNING_TASK)) {
      onRunning?.(Number(line.slice(RUNNING_TASK.length)));
      return;
    }
    if (!line.startsWith('{')) keep(line);
    forward(line, 'warn');
  });
  stdout.on('data', out.push);
  stdout.on('end', out.end);
  stderr.on('data', err.push);
  stderr.on('end', err.end);
  stdout.on('error', () => undefined);
  stderr.on('error', () => undefined);
  return { lines: () => [...tail], keep };
}

/** Splits a text stream into lines; `end` flushes a last unterminated line. */
function lineSplitter(onLine: (line: string) => void): { push(text: string): void; end(): void } {
  let rest = '';
  return {
    push(text: string) {
      const parts = (rest + text).split('\n');
      rest = parts.pop()!;
      for (const line of parts) onLine(line);
      if (rest.length > MAX_LINE_CHARS) {
        onLine(rest);
        rest = '';
      }
    },
    end() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}
