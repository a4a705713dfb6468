/**
 * Text from data (column names, values, file names, error messages that quote them) made safe
 * to show on a terminal. A terminal acts on some characters instead of showing them: ESC starts
 * sequences that move the cursor, recolour, retitle the window or (OSC 52) write the clipboard;
 * C1 controls (U+0080–U+009F, e.g. U+009B = CSI) do the same on many terminals; BEL rings, BS
 * and CR overwrite what was shown; bidirectional overrides (U+202E…) show text in another order
 * than it is (`txt.exe` as `exe.txt`). Each of these is shown as a visible escape instead
 * (`\x1b`, `\u202e`), so what is shown is what is there. Our own escape sequences (the progress
 * display's redraw) are written around the escaped text, never through it.
 */

/** C0 controls (with or without LF and TAB), DEL, C1 controls, bidi marks/embeddings/overrides/isolates, line/paragraph separators. */
const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_BLOCK = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of text (a name, a value, a file name): every unsafe character escaped, line ends and tabs too. */
export function safeLine(text: string): string {
  return text.replace(UNSAFE_LINE, visible);
}

/** Text of several lines (a message, a rendered table): line ends kept, everything else unsafe escaped. */
export function safeBlock(text: string): string {
  return text.replace(UNSAFE_BLOCK, visible);
}

/**
 * JSON for a terminal or a script: JSON.stringify escapes C0 controls already but writes C1
 * controls and bidi overrides raw; they are written as \u escapes, which JSON reads back as the
 * same characters (so the data is unchanged). Only valid on JSON text: these characters can
 * only be inside its strings.
 */
export function safeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
