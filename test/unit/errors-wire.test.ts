/**
 * The one error wire format (protocol/errors.ts): every SluiceError class comes back as the
 * same class with every field, through JSON (a process frame header) and structured clone
 * (postMessage to a thread) alike.
 */
import { serialize as v8Serialize, deserialize as v8Deserialize } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  AbortedError,
  ConfigError,
  ConfigLoadError,
  SinkError,
  SluiceError,
  SourceError,
  StageError,
  WorkerExitError,
  describeCause,
  deserializeError,
  serializeError,
  userFrame,
} from '../../src/errors';
import { StalledError } from '../../src/runtime/guard';

const crossings = {
  json: (e: unknown) => deserializeError(JSON.parse(JSON.stringify(serializeError(e)))),
  'structured clone': (e: unknown) => deserializeError(structuredClone(serializeError(e))),
  'v8 serialize': (e: unknown) => deserializeError(v8Deserialize(v8Serialize(serializeError(e)))),
};

/** Everything of an error that must survive, as plain data (own fields, class, message, stack, cause). */
function anatomy(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const own = Object.fromEntries(Object.entries(err).filter(([, v]) => v !== undefined));
  return { proto: Object.getPrototypeOf(err), name: err.name, message: err.message, stack: err.stack, own, cause: anatomy(err.cause) };
}

const userCause = new TypeError('cannot read properties of undefined');

const samples: Array<[string, () => Error]> = [
  ['SluiceError', () => new SluiceError('SLUICE_SINK_FAILED', 'plain base error')],
  ['ConfigError', () => new ConfigError([{ path: 'stages[1].concurrency', message: 'must be an integer >= 1 (got 0)' }, { path: '', message: 'top' }], '/p/pipeline.config.ts')],
  ['ConfigLoadError', () => new ConfigLoadError('/p/pipeline.config.ts', new SyntaxError('Unexpected token'))],
  ['StageError (process, full location)', () => new StageError({ stage: 'boom', copy: 2, seq: 17, sourceFile: '/data/in.csv' }, 'process', userCause)],
  ['StageError (setup, from a timer)', () => new StageError({ stage: 'boom', copy: 0 }, 'setup', new Error('late'), 'from a timer')],
  ['StageError (load)', () => new StageError({ stage: 's' }, 'load', new Error('Cannot find module'))],
  ['WorkerExitError (code)', () => new WorkerExitError({ stage: 'boom', copy: 1, seq: 3, sourceFile: 'a.csv' }, { exitCode: 3, detail: 'last words' })],
  ['WorkerExitError (signal)', () => new WorkerExitError({ stage: 'boom', copy: 0 }, { signal: 'SIGKILL' })],
  ['SourceError (file, line, column)', () => new SourceError('"oops" is not a float64', { file: '/d/in.csv', line: 352, column: 'x' }, new Error('polars said no'))],
  ['SourceError (no location)', () => new SourceError('nothing matches')],
  ['SinkError', () => new SinkError('cannot write /out/x.parquet', Object.assign(new Error('EFBIG: file too large'), { code: 'EFBIG', errno: -27, syscall: 'write' }))],
  ['AbortedError', () => new AbortedError('SIGTERM')],
];

describe.each(Object.entries(crossings))('across %s', (_, cross) => {
  it.each(samples)('%s comes back as the same class with every field', (_name, make) => {
    const original = make();
    const back = cross(original);
    expect(anatomy(back)).toEqual(anatomy(original));
    expect(back).toBeInstanceOf(original.constructor);
    expect(back).toBeInstanceOf(SluiceError);
    expect((back as SluiceError).code).toBe((original as SluiceError).code);
    expect(back).toBeInstanceOf(Error);
  });

  it('keeps the location and phase a CLI message and the report are made of', () => {
    const back = cross(new StageError({ stage: 'boom', copy: 1, seq: 2, sourceFile: 'in.csv' }, 'flush', new Error('x'))) as StageError;
    expect(back.location).toEqual({ stage: 'boom', copy: 1, seq: 2, sourceFile: 'in.csv' });
    expect(back.phase).toBe('flush');
    const src = cross(new SourceError('bad', { file: 'f.csv', line: 9, column: 'c' })) as SourceError;
    expect([src.file, src.line, src.column, src.detail]).toEqual(['f.csv', 9, 'c', 'bad']);
  });

  it('a SluiceError class it does not know travels as a SluiceError with its name and code', () => {
    const back = cross(new StalledError('stage "x"'));
    expect(back).toBeInstanceOf(SluiceError);
    expect(back.name).toBe('StalledError');
    expect((back as SluiceError).code).toBe('SLUICE_STALLED');
  });

  it('built-in and user errors keep their class or name, and their plain fields', () => {
    const range = cross(new RangeError('too far'));
    expect(range).toBeInstanceOf(RangeError);
    class MyError extends Error {
      constructor(
        message: string,
        readonly detail: { rows: number[] },
      ) {
        super(message);
        this.name = 'MyError';
      }
    }
    const mine = cross(new MyError('mine', { rows: [1, 2] }));
    expect([mine.name, mine.message, (mine as MyError).detail]).toEqual(['MyError', 'mine', { rows: [1, 2] }]);
    expect(mine).toBeInstanceOf(Error);
  });

  it('what is not plain data stays behind; what was not an Error arrives described', () => {
    const odd = Object.assign(new Error('odd'), { fn: () => 1, big: 10n, date: new Date(0), buf: Buffer.alloc(8), ok: 1 });
    const back = cross(odd) as Error & Record<string, unknown>;
    expect(Object.keys(back).sort()).toEqual(['ok']);
    expect(cross(undefined).message).toMatch(/undefined was thrown/);
    expect(cross('a string').message).toBe('a string');
    const cyclic: Record<string, unknown> = { reason: 'loop' };
    cyclic.self = cyclic;
    expect(cross(cyclic).message).toMatch(/loop/);
    // thrown undefined as a stage's cause: the StageError and its message survive, the cause stays undefined
    const stage = cross(new StageError({ stage: 's', seq: 1 }, 'process', undefined)) as StageError;
    expect(stage.message).toMatch(/undefined was thrown/);
    expect(stage.cause).toBeUndefined();
    expect((cross(new StageError({ stage: 's' }, 'process', 'text')) as StageError).cause).toEqual(new Error('text'));
  });
});

// An Error made in another V8 context fails `instanceof Error` here: a thread's uncaught error
// that Node hands to a run embedded in jest's sandbox is one. It is still an Error: its message
// and class travel, not "a non-Error value was thrown".
describe('an Error from another realm', () => {
  const foreign = (): Error => runInNewContext('(() => { const e = new RangeError("from elsewhere"); e.code = "E_AWAY"; return e; })()') as Error;

  it('is described by its message and crosses the wire as an Error', () => {
    expect(foreign()).not.toBeInstanceOf(Error);
    expect(describeCause(foreign())).toBe('from elsewhere');
    const back = crossings.json(foreign()) as Error & { code?: string };
    expect([back.name, back.message, back.code]).toEqual(['RangeError', 'from elsewhere', 'E_AWAY']);
  });

  it('as a stage\'s cause, names the cause', () => {
    expect(new StageError({ stage: 's', seq: 2 }, 'process', foreign()).message).toMatch(/from elsewhere/);
    expect(new StageError({ stage: 's', seq: 2 }, 'process', foreign()).message).not.toMatch(/non-Error/);
  });

  it('keeps its stack for the user\'s frame', () => {
    const e = foreign();
    e.stack = 'RangeError: from elsewhere\n    at thing (/srv/etl/stages/clean.ts:42:11)';
    expect(userFrame(e)).toBe('/srv/etl/stages/clean.ts:42:11');
  });
});
