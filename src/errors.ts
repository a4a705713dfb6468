/**
 * One base error and small coded subclasses. Messages say what went wrong, where
 * (file, line, column, stage, batch, config path) and, where we know it, what to do.
 * Codes are stable strings so scripts can branch on them (`err.code`).
 */
import path from 'node:path';
import { inspect, types } from 'node:util';
import type { WireError, WireValue } from './protocol/errors';

export type SluiceErrorCode =
  | 'SLUICE_CONFIG_INVALID'
  | 'SLUICE_CONFIG_LOAD'
  | 'SLUICE_STAGE_FAILED'
  | 'SLUICE_WORKER_EXITED'
  | 'SLUICE_SOURCE_INVALID'
  | 'SLUICE_SINK_FAILED'
  | 'SLUICE_ABORTED'
  | 'SLUICE_STALLED'
  | 'SLUICE_CASES_INVALID'
  | 'SLUICE_CLUSTER_FAILED';

export class SluiceError extends Error {
  readonly code: SluiceErrorCode;
  constructor(code: SluiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem in a pipeline config, located by its path (`stages[1].concurrency`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends SluiceError {
  readonly issues: ConfigIssue[];
  readonly file: string | undefined;
  constructor(issues: ConfigIssue[], file?: string) {
    const where = file ? ` in ${file}` : '';
    const lines = issues.map((i) => `  ✖ ${i.path ? `${i.path}: ` : ''}${i.message}`);
    super('SLUICE_CONFIG_INVALID', `invalid pipeline config${where}:\n${lines.join('\n')}`);
    this.issues = issues;
    this.file = file;
  }
}

export class ConfigLoadError extends SluiceError {
  constructor(file: string, cause: unknown) {
    super('SLUICE_CONFIG_LOAD', `could not load pipeline config ${file}: ${describeCause(cause)}`, { cause });
  }
}

/** Where in the stream a failure happened: the batch's sequence number and its source file. */
export interface BatchLocation {
  stage: string;
  seq?: number;
  sourceFile?: string;
  /** Index of the copy (worker thread / child process) that failed, when known. */
  copy?: number;
}

function locate(loc: BatchLocation): string {
  const parts = [`stage "${loc.stage}"`];
  if (loc.copy !== undefined) parts.push(`copy ${loc.copy}`);
  if (loc.seq !== undefined) parts.push(`batch #${loc.seq}`);
  if (loc.sourceFile) parts.push(`from ${loc.sourceFile}`);
  return parts.join(', ');
}

/** A stage's own code threw (in setup, process, flush or combine). */
export class StageError extends SluiceError {
  readonly location: BatchLocation;
  readonly phase: 'setup' | 'process' | 'flush' | 'combine' | 'load';
  /** `how`: how the error escaped, when not by the stage's own promise ("from a timer …"). */
  constructor(location: BatchLocation, phase: StageError['phase'], cause: unknown, how?: string) {
    const at = userFrame(cause);
    super('SLUICE_STAGE_FAILED', `${locate(location)} failed in ${phase}(): ${describeCause(cause)}${how ? ` (${how})` : ''}${at ? ` at ${at}` : ''}`, { cause });
    this.location = location;
    this.phase = phase;
  }
}

/**
 * A batch that killed its copy on every attempt (`retries` used up) in a stage whose `onError`
 * is `skip` or `dead-letter`: its rows are rejected whole, never bisected (each part run again
 * would kill a copy again), and the run goes on with a new copy. `cause`: the last death.
 */
export class PoisonBatchError extends StageError {
  readonly wholeBatch = true;
}

/** sluice's own code, from src/ and from dist/: its frames are not where the user looks. */
const OWN = [path.resolve(__dirname), path.resolve(__dirname, '..', 'dist'), path.resolve(__dirname, '..', 'src')];

/**
 * The top frame of the user's own code in an error's stack (`/srv/etl/stages/clean.ts:42:11`),
 * so a stage's exception says where in the stage it was thrown, at every log level: not
 * node's internals, not a package's. Undefined when there is none, or when sluice's own code
 * threw it (a frame of sluice comes first): its message says what is wrong already.
 */
export function userFrame(err: unknown): string | undefined {
  const stack = isError(err) && typeof err.stack === 'string' ? err.stack : '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /^\s*at (?:.*? \()?((?:file:\/\/)?\/[^()]+?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1].startsWith('file://') ? decodeURIComponent(new URL(m[1]).pathname) : m[1];
    if (file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    // A package the build bundled into sluice (dist/vendor/: apache-arrow, which stages call) is a package too.
    if (OWN.some((dir) => file.startsWith(path.join(dir, 'vendor') + path.sep))) continue;
    // Thrown by sluice itself (its message says what is wrong): whoever called it is not the place.
    if (OWN.some((dir) => file.startsWith(dir + path.sep))) return undefined;
    return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/** A worker thread or child process died (exit, signal, crash) while the run needed it. */
export class WorkerExitError extends SluiceError {
  readonly location: BatchLocation;
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(location: BatchLocation, how: { exitCode?: number | null; signal?: string | null; detail?: string }) {
    const what = how.signal ? `was killed by ${how.signal}` : `exited with code ${how.exitCode ?? 'unknown'}`;
    const detail = how.detail ? `: ${how.detail}` : '';
    super('SLUICE_WORKER_EXITED', `${locate(location)}: worker ${what}${detail}`);
    this.location = location;
    this.exitCode = how.exitCode ?? null;
    this.signal = how.signal ?? null;
  }
}

export interface SourceLocation {
  file?: string;
  line?: number;
  column?: string;
}

/** Input data that cannot be read as declared: names file, line and column where known. */
export class SourceError extends SluiceError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: string | undefined;
  /** The message without its location (to rebuild the error on the other side of a thread). */
  readonly detail: string;
  constructor(message: string, where: SourceLocation = {}, cause?: unknown) {
    const parts: string[] = [];
    if (where.file) parts.push(where.file);
    if (where.line !== undefined) parts.push(`line ${where.line}`);
    if (where.column !== undefined) parts.push(`column "${where.column}"`);
    super('SLUICE_SOURCE_INVALID', parts.length ? `${parts.join(', ')}: ${message}` : message, { cause });
    this.detail = message;
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
  }
}

/** Where a sink failed, when the message is about more than its target: a resumable run's staging (io/units) names the unit and the file. */
export interface SinkLocation {
  /** The sink's name in the config (`deadLetter` for the dead-letter output). */
  sink?: string;
  /** The sink's target, as configured (sink.path), made absolute. */
  path?: string;
  /** The unit, counted from 1 as messages and logs count them. */
  unit?: number;
  /** The unit's input file. */
  file?: string;
  /** The file sluice was writing or reading when it failed (a staged unit's frames, the manifest). */
  staged?: string;
}

export class SinkError extends SluiceError {
  /** Set when the failure has a place beyond its message's words (SinkLocation). */
  readonly where?: SinkLocation;
  constructor(message: string, cause?: unknown, where?: SinkLocation) {
    super('SLUICE_SINK_FAILED', cause === undefined ? message : `${message}: ${describeCause(cause)}`, { cause });
    if (where) this.where = where;
  }
}

/** Where in a cluster run (src/cluster) something failed: the run, and the unit when one is to blame. */
export interface ClusterLocation {
  runId?: string;
  unit?: number;
  file?: string;
}

/** A cluster run that failed outside any one stage, source or sink: Redis lost, a unit failed on its workers, a worker refusing a job. */
export class ClusterError extends SluiceError {
  readonly where: ClusterLocation;
  constructor(message: string, where: ClusterLocation = {}, cause?: unknown) {
    super('SLUICE_CLUSTER_FAILED', message, { cause });
    this.where = where;
  }
}

/** The run was stopped from outside (SIGINT/SIGTERM or an AbortSignal). */
export class AbortedError extends SluiceError {
  constructor(reason: string) {
    super('SLUICE_ABORTED', `run aborted: ${reason}`);
  }
}

/**
 * An Error from any realm. `instanceof Error` is false for one made in another V8 context: a
 * thread's uncaught error that Node hands to a run embedded in jest's sandbox (sluice/testing),
 * a config evaluated in a `vm` context; those would otherwise be reported as "a non-Error value".
 */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/** Whatever was thrown, as words: an Error's message, or what the value was (`throw undefined`, a cyclic object). */
export function describeCause(cause: unknown): string {
  if (isError(cause)) return cause.message || `${cause.name} (with no message)`;
  if (typeof cause === 'string') return cause;
  if (cause === undefined || cause === null) return `${String(cause)} was thrown (throw an Error that says what went wrong)`;
  // inspect, not JSON: it copes with cycles, BigInts and functions, and bounds the depth.
  return `a non-Error value was thrown: ${inspect(cause, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 200 })}`;
}

/** The classes `deserializeError` can rebuild, by name (a subclass elsewhere travels as its nearest one here). */
const CLASSES: Record<string, new (...args: never[]) => Error> = {
  SluiceError,
  ConfigError,
  ConfigLoadError,
  StageError,
  WorkerExitError,
  SourceError,
  SinkError,
  AbortedError,
  ClusterError,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Fields of plain data up to this size travel; a bigger one (a user's error holding a buffer) stays behind. */
const MAX_FIELD_CHARS = 64 * 1024;

/**
 * An error as plain data, for any boundary (protocol/errors.ts): its class, message, stack,
 * own fields and cause. Anything thrown that is not an Error travels as an Error that says
 * what it was (describeCause).
 */
export function serializeError(err: unknown): WireError {
  if (!isError(err)) return { class: 'Error', name: 'Error', message: describeCause(err), fields: {} };
  const fields: Record<string, WireValue> = {};
  for (const [key, value] of Object.entries(err)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
    const plain = plainData(value);
    if (plain !== undefined) fields[key] = plain;
  }
  const wire: WireError = { class: classOf(err), name: err.name, message: err.message, stack: err.stack, fields };
  // `cause: undefined` travels as no cause (SluiceErrors pass `{ cause }` even without one).
  if (err.cause !== undefined) wire.cause = serializeError(err.cause);
  return wire;
}

/** The error `serializeError` described: the same class (or its nearest known one), fields, stack and cause. */
export function deserializeError(wire: WireError): Error {
  const Class = CLASSES[wire.class] ?? Error;
  // Reflect.construct with Error's constructor: a real Error of the class, whose own
  // constructor (which composes the message) does not run again.
  const err: Error = Reflect.construct(Error, [wire.message], Class);
  Object.assign(err, wire.fields);
  Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true, enumerable: err instanceof SluiceError });
  if (wire.stack !== undefined) err.stack = wire.stack;
  if (wire.cause) Object.defineProperty(err, 'cause', { value: deserializeError(wire.cause), writable: true, configurable: true });
  return err;
}

function classOf(err: Error): string {
  for (let proto = Object.getPrototypeOf(err); proto; proto = Object.getPrototypeOf(proto)) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    if (name && CLASSES[name] === proto.constructor) return name;
  }
  return 'Error';
}

/** `value` if it is plain data JSON carries unchanged (within MAX_FIELD_CHARS), else undefined. */
function plainData(value: unknown): WireValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'object') return undefined;
  try {
    const text = JSON.stringify(value);
    return text.length <= MAX_FIELD_CHARS && JSON.stringify(JSON.parse(text)) === text && isPlain(value) ? (JSON.parse(text) as WireValue) : undefined;
  } catch {
    return undefined; // a cycle, a BigInt
  }
}

function isPlain(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every(isPlain);
}
