/** terminal-text.ts, and the live progress display writing stage names through it. */
import { ProgressDisplay, renderProgress } from '../../../src/cli/progress';
import { safeBlock, safeJson, safeLine } from '../../../src/cli/terminal-text';
import type { ProgressSnapshot } from '../../../src/runtime/types';

it.each([
  ['ESC / CSI', '\u001b[31mred', '\\x1b[31mred'],
  ['OSC with BEL', '\u001b]0;t\u0007', '\\x1b]0;t\\x07'],
  ['C1 CSI', '\u009b2J', '\\x9b2J'],
  ['backspace', 'a\bb', 'a\\x08b'],
  ['CR', 'a\rb', 'a\\rb'],
  ['DEL', 'a\u007fb', 'a\\x7fb'],
  ['bidi override', 'a\u202eb', 'a\\u202eb'],
  ['bidi isolate', 'a\u2066b', 'a\\u2066b'],
  ['line separator', 'a\u2028b', 'a\\u2028b'],
  ['plain text, accents, CJK, emoji', 'café 東京 🚀', 'café 東京 🚀'],
])('%s', (_what, raw, shown) => {
  expect(safeLine(raw)).toBe(shown);
  expect(safeBlock(raw)).toBe(shown);
});

it('a block keeps its line ends; a line does not', () => {
  expect(safeBlock('a\nb\tc')).toBe('a\nb\\tc');
  expect(safeLine('a\nb')).toBe('a\\nb');
});

it('JSON keeps its meaning: C1 and bidi as \\u escapes, formatting untouched', () => {
  const value = { k: 'x\u009by\u202ez\u001b' };
  const json = safeJson(JSON.stringify(value, null, 2));
  expect(json).not.toMatch(/[\u007f-\u009f\u202a-\u202e]/);
  expect(JSON.parse(json)).toEqual(value);
});

it('the progress display writes stage names escaped, inside its own redraw sequences only', () => {
  let written = '';
  const out = { write: (t: string) => (written += t) } as unknown as NodeJS.WriteStream;
  const display = new ProgressDisplay(out);
  const snapshot: ProgressSnapshot = {
    elapsedMs: 10,
    source: { rows: 1, batches: 1, done: false },
    stages: [{ name: '\u001b]0;pwned\u0007x', rowsOut: 1, rowsPerSec: 1, queueDepth: 0, busy: 0, copies: 1, inFlight: 0, done: false, waitReason: 'waits for \u202eyou' }],
    sink: { rows: 0, queueDepth: 0 },
  };
  expect(renderProgress(snapshot).length).toBeGreaterThan(0);
  display.update(snapshot);
  display.update(snapshot);
  // The only ESC written is the redraw's own cursor-up-and-erase.
  expect(written.replace(/\u001b\[\d+A\u001b\[0J/g, '')).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  expect(written).toContain('\\x1b]0;pwned\\x07x');
  expect(written).toContain('waits for \\u202eyou');
});
