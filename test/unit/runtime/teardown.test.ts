/**
 * The run's one teardown (runtime/teardown.ts): what was opened is torn down in reverse order,
 * each exactly once; the first error is the run's, later teardown errors are attached to it,
 * never instead of it; a resource registered after the failure goes at once; a held step is
 * not cut; success releases in reverse order.
 */
import { Teardown, TeardownFailure, suppressedOf, type Resource } from '../../../src/runtime/teardown';

/** A resource that writes what happens to it into `log`. */
function logged(log: string[], name: string, opts: { abortThrows?: Error; releaseThrows?: Error } = {}): Resource {
  return {
    abort: async (cause: unknown) => {
      log.push(`abort ${name} (${(cause as Error).message})`);
      if (opts.abortThrows) throw opts.abortThrows;
    },
    release: () => {
      log.push(`release ${name}`);
      if (opts.releaseThrows) throw opts.releaseThrows;
    },
  };
}

it('tears everything down in reverse order of registration, with the first error', async () => {
  const log: string[] = [];
  const t = new Teardown();
  for (const name of ['guard', 'sinks', 'source', 'copies']) t.add(name, logged(log, name));
  await t.fail(new Error('stage threw'));
  expect(log).toEqual(['abort copies (stage threw)', 'abort source (stage threw)', 'abort sinks (stage threw)', 'abort guard (stage threw)']);
});

it('tears each resource down exactly once, however many failures come', async () => {
  const log: string[] = [];
  const t = new Teardown();
  t.add('sinks', logged(log, 'sinks'));
  t.add('copies', logged(log, 'copies'));
  const first = t.fail(new Error('one'));
  const second = t.fail(new Error('two'));
  await Promise.all([first, second, t.fail(new Error('three'))]);
  await t.close(); // after a failure: releases nothing
  expect(log).toEqual(['abort copies (one)', 'abort sinks (one)']);
});

it('the first error wins: later ones change neither the error nor `stopped`', async () => {
  const t = new Teardown();
  const first = new Error('first');
  void t.fail(first);
  void t.fail(new Error('second'));
  expect(t.failed).toBe(true);
  expect(t.error).toBe(first);
  await expect(t.stopped).rejects.toBe(first);
  await expect(t.race(new Promise(() => undefined))).rejects.toBe(first);
  expect(() => t.throwIfFailed()).toThrow(first);
});

it('a teardown that throws does not mask the first error, and does not stop the others', async () => {
  const log: string[] = [];
  const t = new Teardown();
  t.add('sinks', logged(log, 'sinks'));
  t.add('source', logged(log, 'source', { abortThrows: new Error('EBADF: close') }));
  t.add('copies', logged(log, 'copies'));
  const first = new Error('stage threw');
  await t.fail(first);
  expect(log).toEqual(['abort copies (stage threw)', 'abort source (stage threw)', 'abort sinks (stage threw)']);
  expect(t.error).toBe(first);
  const attached = suppressedOf(t.error);
  expect(attached).toHaveLength(1);
  expect(attached[0]).toBeInstanceOf(TeardownFailure);
  expect(attached[0].message).toBe('tearing down source failed: EBADF: close');
  expect(attached[0].resource).toBe('source');
});

it('a resource registered after the failure (an open under way) is torn down at once', async () => {
  const log: string[] = [];
  const t = new Teardown();
  t.add('guard', logged(log, 'guard'));
  await t.fail(new Error('signal'));
  t.add('sinks', logged(log, 'sinks'));
  await t.close();
  expect(log).toEqual(['abort guard (signal)', 'abort sinks (signal)']);
});

it('a held step (the commit) is not cut: a failure meanwhile tears down once it settled', async () => {
  const log: string[] = [];
  const t = new Teardown();
  t.add('sinks', logged(log, 'sinks'));
  let finish!: () => void;
  const commit = t.hold(new Promise<void>((resolve) => (finish = resolve)).then(() => void log.push('committed')));
  const down = t.fail(new Error('signal'));
  await Promise.resolve();
  expect(log).toEqual([]);
  finish();
  await Promise.all([commit, down]);
  expect(log).toEqual(['committed', 'abort sinks (signal)']);
});

it('success releases in reverse order, each once; a release that throws is returned, not thrown', async () => {
  const log: string[] = [];
  const t = new Teardown();
  t.add('guard', logged(log, 'guard'));
  t.add('early copies', logged(log, 'early copies', { releaseThrows: new Error('EPERM') }));
  t.add('without release', { abort: () => log.push('abort without release') });
  const failures = await t.close();
  expect(log).toEqual(['release early copies', 'release guard']);
  expect(failures.map((f) => f.message)).toEqual(['tearing down early copies failed: EPERM']);
  expect(await t.close()).toEqual([]);
  expect(log).toHaveLength(2);
  expect(() => t.add('late', logged(log, 'late'))).toThrow('registered after the run ended');
});

it('two teardowns do not fail each other', async () => {
  const log: string[] = [];
  const a = new Teardown();
  const b = new Teardown();
  a.add('a', logged(log, 'a'));
  b.add('b', logged(log, 'b'));
  await a.fail(new Error('a failed'));
  expect(b.failed).toBe(false);
  await b.close();
  expect(log).toEqual(['abort a (a failed)', 'release b']);
});
