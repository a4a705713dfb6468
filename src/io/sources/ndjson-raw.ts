/**
 * One JSON line as written: numbers keep their text, because JSON.parse (and polars) would
 * make `2.0` the integer 2 and round 9007199254740993 to ...992, and those are exactly the
 * values NDJSON's checks must see. Only for locating a value that does not fit (a slow path):
 * the line has already been read as JSON.
 */

/** A JSON number's text, as written (`2.0`, `1e3`, `18446744073709551616`). */
export class RawNumber {
  constructor(readonly text: string) {}
  /** Written without a fraction or exponent. */
  get integer(): boolean {
    return /^-?\d+$/.test(this.text);
  }
}

export type RawValue = null | boolean | string | RawNumber | RawValue[] | RawObject;
/** An object without a prototype, so that a key `__proto__` is a key like any other. */
export type RawObject = { [key: string]: RawValue };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

export function parseRaw(text: string): RawValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) throw new SyntaxError(`expected ${c} at ${i}`);
    i++;
  };
  const str = (): string => {
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    const s = JSON.parse(text.slice(i, j + 1)) as string;
    i = j + 1;
    return s;
  };
  const value = (): RawValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = Object.create(null) as RawObject;
      ws();
      if (text[i] === '}') return i++, o;
      for (;;) {
        ws();
        const key = str();
        expect(':');
        o[key] = value();
        ws();
        if (text[i++] === ',') continue;
        if (text[i - 1] !== '}') throw new SyntaxError(`expected } at ${i - 1}`);
        return o;
      }
    }
    if (c === '[') {
      i++;
      const a: RawValue[] = [];
      ws();
      if (text[i] === ']') return i++, a;
      for (;;) {
        a.push(value());
        ws();
        if (text[i++] === ',') continue;
        if (text[i - 1] !== ']') throw new SyntaxError(`expected ] at ${i - 1}`);
        return a;
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) return (i += word.length), v;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) throw new SyntaxError(`unexpected ${c} at ${i}`);
    i += m[0].length;
    return new RawNumber(m[0]);
  };
  const v = value();
  ws();
  if (i < text.length) throw new SyntaxError(`unexpected ${text[i]} at ${i}`);
  return v;
}
