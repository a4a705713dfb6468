/**
 * Logging: one pino root per run (pretty on a TTY, JSON lines otherwise), a child per
 * stage and copy. Worker threads and child processes log JSON lines into a callback;
 * the main side re-emits them into the same stream with `stage` and `worker` fields.
 */
import pino, { type Level, type Logger } from 'pino';

export type { Logger };

export interface RootLoggerOptions {
  level?: string;
  /** Pretty output; default: stderr is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go (tests); default stderr. */
  destination?: NodeJS.WritableStream;
  /** Wraps each write (the live display erases itself, the line is written, it draws itself again). */
  around?: (write: () => void) => void;
}

export function createRootLogger(opts: RootLoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty && !opts.destination) {
    // pino-pretty in the same thread: logs are few, and a transport thread would outlive a crash.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pinoPretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino({ level }, wrapped(pinoPretty({ destination: 2, sync: true, ignore: 'pid,hostname' }), opts.around));
  }
  return pino({ level }, wrapped(opts.destination ?? pino.destination({ dest: 2, sync: true }), opts.around));
}

/** `stream`, each write passed through `around` (writes are synchronous: the line is out when it returns). */
function wrapped<S extends { write(chunk: string): unknown }>(stream: S, around: RootLoggerOptions['around']): S | { write(chunk: string): void } {
  if (!around) return stream;
  return { write: (chunk: string) => around(() => void stream.write(chunk)) };
}

// A copy's logger loads pino on its first line (forwarding.ts): copies import it from there, not from here.
export { createForwardingLogger } from './forwarding';

const LEVEL_NAMES: Record<number, Level> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Re-emit one JSON log line from a worker into the main logger. Non-JSON text is logged as is. */
export function forwardLogLine(target: Logger, line: string, fallbackLevel: Level = 'info'): void {
  const text = line.trim();
  if (!text) return;
  let record: Record<string, unknown> | undefined;
  if (text.startsWith('{')) {
    try {
      record = JSON.parse(text) as Record<string, unknown>;
    } catch {
      record = undefined;
    }
  }
  if (!record || typeof record.level !== 'number') {
    target[fallbackLevel]({ output: true }, text);
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _host, ...fields } = record;
  // The worker's own bindings (stage, copy) travel in the line, and `target` is a child bound
  // to the same: pino would write each key twice ("stage":"x",…,"stage":"x"). A key bound here
  // with the same value is dropped; a fused stage's member (the worker logs "a", the main side
  // binds "a+b") stays as `member`.
  const bound = target.bindings();
  for (const key of Object.keys(fields)) {
    if (!(key in bound)) continue;
    if (JSON.stringify(bound[key]) !== JSON.stringify(fields[key]) && key === 'stage') fields.member = fields[key];
    delete fields[key];
  }
  const name = LEVEL_NAMES[level as number] ?? 'info';
  target[name](fields, typeof msg === 'string' ? msg : '');
}
