/**
 * A copy's logger (log/forwarding.ts) is made on the first line logged: until then a stand-in
 * answers what needs no pino. What `send` receives must be what the eager pino logger sent
 * (the same lines, the same bindings in the same order), whatever is called first.
 */
import pino from 'pino';
import { createForwardingLogger } from '../../../src/log/forwarding';

/** What the eager logger (pino, then `.child(bindings)`) sends for the same calls. */
function eager(level: string, bindings: Record<string, unknown>) {
  const lines: string[] = [];
  return { lines, log: pino({ level, base: undefined, timestamp: () => ',"time":1' }, { write: (l: string) => void lines.push(l) }).child(bindings) };
}
function lazy(level: string, bindings: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createForwardingLogger(level, (l) => void lines.push(l), bindings);
  return { lines, log };
}
/** Lines with their time taken out (each logger stamps its own). */
const untimed = (lines: string[]) => lines.map((l) => l.replace(/"time":\d+,?/, ''));

it('sends the lines the eager logger sends: levels, children of children, objects, format arguments', () => {
  const boom = new Error('boom'); // one error: its stack is in the line
  const calls = (log: pino.Logger) => {
    log.debug('below the level: nothing');
    const stage = log.child({ stage: 'a' });
    stage.trace({ x: 1 }, 'nothing either');
    stage.info({ rows: 2 }, 'hello %s', 'there');
    stage.child({ member: 'b' }).warn('deeper');
    log.error(boom);
    stage.fatal('last');
  };
  const a = eager('info', { worker: 3 });
  const b = lazy('info', { worker: 3 });
  calls(a.log);
  calls(b.log);
  expect(untimed(b.lines)).toEqual(untimed(a.lines));
  expect(b.lines).toHaveLength(4);
  expect(JSON.parse(b.lines[1])).toMatchObject({ level: 40, worker: 3, stage: 'a', member: 'b', msg: 'deeper' });
});

it('answers level and isLevelEnabled as pino does, before and after a line; a level set on it is obeyed', () => {
  const b = lazy('warn', { worker: 0 });
  expect(b.log.level).toBe('warn');
  expect(['debug', 'info', 'warn', 'error'].map((l) => b.log.isLevelEnabled(l))).toEqual([false, false, true, true]);
  b.log.info('dropped');
  expect(b.lines).toEqual([]);
  b.log.level = 'debug';
  expect(b.log.level).toBe('debug');
  b.log.debug('kept');
  expect(b.lines.map((l) => JSON.parse(l).msg)).toEqual(['kept']);
  expect(b.log.isLevelEnabled('debug')).toBe(true);
});

it('silent: nothing, and nothing enabled', () => {
  const b = lazy('silent', {});
  b.log.fatal('no');
  b.log.child({ stage: 's' }).error('no');
  expect(b.lines).toEqual([]);
  expect(b.log.isLevelEnabled('fatal')).toBe(false);
});
