/** Sink failures name the target first, then the OS code and what to do, then the temporary. */
import { AbortedError, SinkError, SourceError } from '../../../../src/errors';
import { osCode, sinkFailure } from '../../../../src/io/sinks/failures';

const target = '/data/out/x.csv';
const temp = '/data/out/.x.csv.sluice-tmp-123-abcd0123';
const osError = (code: string, text: string) => Object.assign(new Error(`${code}: ${text}, write '${temp}'`), { code });

it.each([
  ['ENOSPC', 'no space left on device', 'the disk is full'],
  ['EROFS', 'read-only file system', 'the file system is read-only'],
  ['EACCES', 'permission denied', 'make the directory writable'],
  ['ENAMETOOLONG', 'name too long', 'shorten sink.path'],
  ['EDQUOT', 'disk quota exceeded', 'quota'],
])('%s names the target, the code, the advice and the temporary', (code, text, advice) => {
  const err = sinkFailure(osError(code, text), 'write', target, temp);
  expect(err).toBeInstanceOf(SinkError);
  expect(err.message).toMatch(new RegExp(`^cannot write ${target.replace(/[.]/g, '\\.')}: ${code} \\(`));
  expect(err.message).toContain(advice);
  expect(err.message).toContain(`; temporary ${temp}: ${code}: ${text}`);
});

it('finds the code in a wrapped cause (an encoder error wrapped by its writer)', () => {
  const wrapped = new SinkError(`cannot write Parquet ${temp}`, osError('ENOSPC', 'no space left on device'));
  expect(osCode(wrapped)).toBe('ENOSPC');
  expect(sinkFailure(wrapped, 'commit', target, temp).message).toMatch(/^cannot commit \/data\/out\/x\.csv: ENOSPC \(the disk is full/);
});

it('an error without an OS code still leads with the target', () => {
  expect(sinkFailure(new Error('boom'), 'write', target, temp).message).toBe(`cannot write ${target}; temporary ${temp}: boom`);
});

it("source, abort and messages already naming the target pass through", () => {
  const source = new SourceError('bad', { file: '/in.csv', line: 3 });
  const aborted = new AbortedError('SIGINT');
  const named = new SinkError(`${target} is being written by pid 1`);
  for (const e of [source, aborted, named]) expect(sinkFailure(e, 'write', target, temp)).toBe(e);
});
