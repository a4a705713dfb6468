/**
 * The logger of a worker thread or child process (a stage's copy, the source thread): JSON
 * lines handed to `send`, which carries them to main (log/index.ts forwardLogLine re-emits
 * them there).
 *
 * pino is loaded on the first line that is logged, not when the copy starts: most copies log
 * nothing at the run's level, and loading pino cost each thread and child ~0.06 CPU-s
 * (measured: test/e2e/startup.test.ts counts what a copy compiles). Until then the logger is
 * a stand-in that answers what needs no pino (a call below the level, `child()`, `level`,
 * `isLevelEnabled`) and builds the real pino logger, with the same bindings in the same
 * order, for anything else; from then on it is that logger. This file imports pino's types
 * only, so a copy that never logs never loads it.
 */
import type { Logger } from 'pino';

/** pino's standard levels; `silent` logs nothing. */
const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** A logger inside a worker/child: JSON lines handed to `send`, which carries them to main. */
export function createForwardingLogger(level: string, send: (line: string) => void, bindings: Record<string, unknown>): Logger {
  let root: Logger | undefined;
  const makeRoot = (): Logger => {
    if (!root) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on the first line logged (see above)
      const pino = require('pino') as typeof import('pino');
      root = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime }, { write: send });
    }
    return root;
  };
  return lazyLogger(makeRoot, [bindings], level);
}

/**
 * A stand-in for `makeRoot().child(b1).child(b2)…` (`chain`) at `level`. A level the root does
 * not know (a custom one) makes the real logger at once, so pino decides.
 */
function lazyLogger(makeRoot: () => Logger, chain: readonly Record<string, unknown>[], level: string): Logger {
  const threshold = LEVEL_VALUES[level];
  let real: Logger | undefined;
  const materialise = (): Logger => (real ??= chain.reduce<Logger>((logger, b) => logger.child(b), makeRoot()));
  if (threshold === undefined) materialise();
  const noop = () => undefined;
  const standIn: Record<PropertyKey, unknown> = {
    child: (b: Record<string, unknown>, options?: unknown) => (options === undefined ? lazyLogger(makeRoot, [...chain, b], level) : materialise().child(b, options as never)),
    isLevelEnabled: (name: string) => (LEVEL_VALUES[name] ?? -Infinity) >= threshold && threshold !== Infinity,
    level,
  };
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (!real) {
        if (typeof prop === 'string' && prop in LEVEL_VALUES && prop !== 'silent' && LEVEL_VALUES[prop] < threshold) return noop;
        if (Object.prototype.hasOwnProperty.call(standIn, prop)) return standIn[prop];
      }
      const logger = materialise();
      const value: unknown = Reflect.get(logger, prop, logger);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(logger) : value;
    },
    set(_target, prop, value) {
      return Reflect.set(materialise(), prop, value);
    },
    has(_target, prop) {
      return Reflect.has(materialise(), prop);
    },
  });
}
