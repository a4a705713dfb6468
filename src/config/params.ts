/**
 * Run parameters: a `params` block of typed defaults in the config, values from
 * `--set name=value`, resolved once (check/ calls this for `validate`, `explain` and `run`).
 * The values are strings, numbers and booleans only (a date is its `YYYY-MM-DD` string), so
 * they always survive the structured clone that carries them to thread and process stages,
 * and read as written when put in a path.
 */
import type { ConfigIssue } from '../errors';
import { closest } from './closest';

export type ParamType = 'string' | 'number' | 'boolean' | 'date';
export type ParamValue = string | number | boolean;

/** A param: its default (the type follows from it), or its type with an optional default. */
export type ParamSpec =
  | string
  | number
  | boolean
  /**
   * `pattern: true`: the value is a glob where a source.path function puts it (`--set
   * files='2026-11-*'`); without it, a value is literal there (`acme[1]` names `acme[1]`).
   */
  | { type: 'string'; default?: string; description?: string; pattern?: boolean }
  | { type: 'number'; default?: number; description?: string }
  | { type: 'boolean'; default?: boolean; description?: string }
  /** A calendar date written `YYYY-MM-DD`; its value is that string. */
  | { type: 'date'; default?: string; description?: string };

export type ParamsSpec = Record<string, ParamSpec>;

type ValueOf<S> = S extends number | { type: 'number' } ? number : S extends boolean | { type: 'boolean' } ? boolean : string;

/** The values of a params block, typed from it: `{ day: { type: 'date' }, limit: 10 }` → `{ day: string; limit: number }`. */
export type ParamValues<P> = { readonly [K in keyof P]: ValueOf<P[K]> };

/** What a config function (`path: ({ params }) => …`) is given. */
export interface ConfigContext<P = ParamsSpec> {
  readonly params: ParamValues<P>;
}

/** A value written as is, or computed from the params once they are resolved. */
export type FromParams<T, P = ParamsSpec> = T | ((ctx: ConfigContext<P>) => T | Promise<T>);

/** Params as resolved for a run: what stages see as `ctx.params`, and where each value came from. */
export interface ResolvedParams {
  values: Readonly<Record<string, ParamValue>>;
  types: Readonly<Record<string, ParamType>>;
  from: Readonly<Record<string, 'default' | '--set'>>;
  /** String params declared `pattern: true`: left unescaped in a source.path function. */
  patterns?: readonly string[];
}

export const NO_PARAMS: ResolvedParams = { values: {}, types: {}, from: {} };

interface Declared {
  type: ParamType;
  default?: ParamValue;
  description?: string;
  pattern?: boolean;
}

const TYPES: readonly ParamType[] = ['string', 'number', 'boolean', 'date'];
const SPEC_KEYS = ['type', 'default', 'description', 'pattern'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A number as written (JSON would say null for NaN and 0 for -0).
const show = (v: unknown) => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : (JSON.stringify(v) ?? String(v)));

/** Each param of a `params` block with its type and default, and an issue for each one that is malformed. */
export function declaredParams(block: unknown): { declared: Map<string, Declared>; issues: ConfigIssue[] } {
  const declared = new Map<string, Declared>();
  if (block === undefined) return { declared, issues: [] };
  if (block === null || typeof block !== 'object' || Array.isArray(block)) {
    return { declared, issues: [{ path: 'params', message: `must be an object of params ({ day: { type: 'date' }, limit: 100 }), got ${show(block)}` }] };
  }
  const issues: ConfigIssue[] = [];
  for (const [name, spec] of Object.entries(block)) {
    const where = `params.${name}`;
    if (!NAME.test(name)) {
      issues.push({ path: where, message: 'a param name starts with a letter or _ and holds only letters, digits and _ (it is written --set name=value and read as params.name)' });
      continue;
    }
    const found = declaredParam(spec, where, issues);
    if (found) declared.set(name, found);
  }
  return { declared, issues };
}

function declaredParam(spec: unknown, where: string, issues: ConfigIssue[]): Declared | undefined {
  if (typeof spec === 'string') return { type: 'string', default: spec };
  if (typeof spec === 'boolean') return { type: 'boolean', default: spec };
  if (typeof spec === 'number') {
    const problem = numberDefaultProblem(spec);
    if (!problem) return { type: 'number', default: spec };
    issues.push({ path: where, message: `a number default ${problem}, got ${show(spec)}` });
    return undefined;
  }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    issues.push({ path: where, message: `must be a default value (a string, number or boolean) or { type: 'string' | 'number' | 'boolean' | 'date', default?, description? }, got ${show(spec)}` });
    return undefined;
  }
  const before = issues.length;
  const { type, default: value, description, pattern } = spec as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (SPEC_KEYS.includes(key)) continue;
    const hint = closest(key, SPEC_KEYS);
    issues.push({ path: `${where}.${key}`, message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${SPEC_KEYS.join(', ')}` });
  }
  if (description !== undefined && typeof description !== 'string') issues.push({ path: `${where}.description`, message: `must be a string, got ${show(description)}` });
  if (pattern !== undefined && (typeof pattern !== 'boolean' || type !== 'string')) {
    issues.push({ path: `${where}.pattern`, message: `${type === 'string' ? `must be true or false, got ${show(pattern)}` : "only a { type: 'string' } param can be a pattern"}` });
  }
  if (typeof type !== 'string' || !TYPES.includes(type as ParamType)) {
    issues.push({ path: `${where}.type`, message: `must be one of ${TYPES.join(', ')}, ${type === undefined ? 'missing' : `got ${show(type)}`}` });
    return undefined;
  }
  if (value !== undefined) {
    const problem = valueProblem(type as ParamType, value);
    if (problem) issues.push({ path: `${where}.default`, message: `${problem}, got ${show(value)}` });
  }
  if (issues.length !== before) return undefined;
  return { type: type as ParamType, ...(value !== undefined && { default: value as ParamValue }), ...(typeof description === 'string' && { description }), ...(pattern === true && { pattern }) };
}

/** Why a default of the config does not fit its declared type, or undefined. */
function valueProblem(type: ParamType, value: unknown): string | undefined {
  if (type === 'date') return typeof value === 'string' ? dateProblem(value) : expected('date');
  if (type === 'number') return typeof value === 'number' ? numberDefaultProblem(value) : expected('number');
  return typeof value === type ? undefined : expected(type);
}

/**
 * Why a number written in the config cannot be a param's default, or undefined. Its text is
 * gone (TypeScript parsed it), so what can be seen is seen: not finite, -0 (which a path or a
 * comparison reads as 0), and an integer of an id's shape beyond 2^53, which the literal may
 * already have been rounded to (9007199254740993 parses as 9007199254740992).
 */
function numberDefaultProblem(n: number): string | undefined {
  if (!Number.isFinite(n)) return 'must be a finite number';
  if (Object.is(n, -0)) return 'must not be -0 (it reads as 0 in a path and compares equal to 0; write 0)';
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && !/e/.test(String(n))) {
    return `must be within ±2^53 (${Number.MAX_SAFE_INTEGER}): beyond it a number cannot hold every integer and the literal may already be rounded (declare the param { type: 'string' } and convert it in the stage with BigInt)`;
  }
  return undefined;
}

const expected = (type: ParamType) =>
  ({ string: 'must be a string', number: 'must be a finite number', boolean: 'must be true or false', date: 'must be a date written YYYY-MM-DD' })[type];

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Why `text` is not an ISO calendar date `YYYY-MM-DD` (2026-02-30 is not one), or undefined. */
export function dateProblem(text: string): string | undefined {
  const m = DATE.exec(text);
  if (!m) return 'must be a date written YYYY-MM-DD';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return `must be a date written YYYY-MM-DD (there is no month ${m[2]})`;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) return `must be a date written YYYY-MM-DD (${m[1]}-${m[2]} has days 01 to ${days})`;
  return undefined;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A `--set` value (always text) as the param's type: `{ value }`, or `{ problem }` saying what was expected. */
export function coerceParam(type: ParamType, text: string): { value: ParamValue } | { problem: string } {
  switch (type) {
    case 'string':
      return { value: text };
    case 'number':
      return coerceNumber(text);
    case 'boolean':
      return text === 'true' || text === 'false' ? { value: text === 'true' } : { problem: `must be true or false (written so: not yes, no, 1, 0 or TRUE), got "${text}"` };
    case 'date': {
      const problem = dateProblem(text);
      return problem ? { problem: `${problem}, got "${text}"` } : { value: text };
    }
  }
}

/**
 * A `--set` number, only where the number is exactly what was written (no value changed without
 * a word): decimal text (Number() alone would take "", " ", "0x1f" and "Infinity"), finite,
 * not -0, and no digit lost: 9007199254740993 (beyond 2^53) or 0.10000000000000000001 would
 * be read as another number, and 1e-400 as 0.
 */
function coerceNumber(text: string): { value: number } | { problem: string } {
  if (!NUMBER.test(text)) {
    const hint = /^[+-]?0[xob]/i.test(text) ? ' written in decimal' : /^[+-]?(Infinity|NaN)$/i.test(text) ? ' (finite)' : '';
    return { problem: `must be a number${hint}, got "${text}"` };
  }
  const n = Number(text);
  if (!Number.isFinite(n)) return { problem: `is beyond the range of a number (about ±1.8e308), got "${text}": declare the param { type: 'string' } to keep it as text` };
  if (Object.is(n, -0)) return { problem: `must not be -0 (it reads as 0 in a path and compares equal to 0), got "${text}": write 0` };
  if (exactDecimal(text) !== exactDecimal(String(n))) {
    const why = Number.isInteger(n) && !Number.isSafeInteger(n) ? `is beyond 2^53 (${Number.MAX_SAFE_INTEGER}), where a number cannot hold every integer` : 'has more digits than a number keeps';
    return { problem: `${why}: it would be read as ${String(n)}, got "${text}"; declare the param { type: 'string' } and convert it in the stage (BigInt, a decimal library)` };
  }
  return { value: n };
}

/** A decimal text's exact value in one canonical form (`0.<digits>e<exp>`), to compare two texts. */
function exactDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const digits = m[2] + (m[3] ?? '');
  const lead = /^0*/.exec(digits)![0].length;
  const significant = digits.slice(lead).replace(/0+$/, '');
  if (!significant) return '0';
  return `${m[1] === '-' ? '-' : ''}0.${significant}e${Number(m[4] ?? 0) + m[2].length - lead}`;
}

/**
 * The params of a config with the `--set` values applied (the last `--set` of a name wins,
 * so a script's defaults can be followed by tonight's), and every problem at once: a
 * malformed block, a `--set` that is malformed, names no param or does not parse as its
 * type, and each required param (one without a default) that was not given.
 */
export function resolveParams(block: unknown, sets: readonly string[] = []): { params?: ResolvedParams; issues: ConfigIssue[] } {
  const { declared, issues } = declaredParams(block);
  const names = Object.keys(block !== null && typeof block === 'object' ? block : {});
  const given = new Map<string, ParamValue>();
  // Names given by a --set, even one that did not parse: that one is reported, not as missing.
  const attempted = new Set<string>();
  for (const entry of sets) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      issues.push({ path: '--set', message: `expected <param>=<value>, got "${entry}"` });
      continue;
    }
    const name = entry.slice(0, eq);
    const text = entry.slice(eq + 1);
    if (!names.includes(name)) {
      issues.push({ path: '--set', message: unknownParam(name, names) });
      continue;
    }
    attempted.add(name);
    const param = declared.get(name);
    if (!param) continue; // its declaration is reported
    const coerced = coerceParam(param.type, text);
    if ('problem' in coerced) issues.push({ path: `--set ${name}`, message: coerced.problem });
    else given.set(name, coerced.value);
  }
  const values: Record<string, ParamValue> = {};
  const types: Record<string, ParamType> = {};
  const from: Record<string, 'default' | '--set'> = {};
  const patterns: string[] = [];
  for (const [name, param] of declared) {
    types[name] = param.type;
    if (param.pattern) patterns.push(name);
    const value = given.get(name) ?? param.default;
    if (value === undefined) {
      if (attempted.has(name)) continue;
      const example = { string: 'text', number: '<number>', boolean: 'true', date: 'YYYY-MM-DD' }[param.type];
      const what = param.description ? ` (${param.description})` : '';
      issues.push({ path: `params.${name}`, message: `required (it has no default) and not given: pass --set ${name}=${example}${what}` });
      continue;
    }
    values[name] = value;
    from[name] = given.has(name) ? '--set' : 'default';
  }
  if (issues.length) return { issues };
  return { params: { values: Object.freeze(values), types: Object.freeze(types), from: Object.freeze(from), ...(patterns.length && { patterns: Object.freeze(patterns) }) }, issues };
}

function unknownParam(name: string, names: string[]): string {
  if (names.length === 0) return `no param named "${name}": the config declares no params (add them to its params block: params: { ${name}: <default> })`;
  const hint = closest(name, names);
  return `no param named "${name}" (params: ${names.join(', ')}${hint ? `; did you mean "${hint}"?` : ''})`;
}
