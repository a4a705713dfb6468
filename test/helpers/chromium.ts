/**
 * Headless Chromium (Debian's `chromium` package, installed by .ci/run) to render an HTML
 * report as a user's browser would. Without it the tests that need it are skipped with a
 * warning, and under CI (CI=true) they fail instead: CI installs it, so its absence is a bug.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function find(): string | undefined {
  for (const name of [process.env.CHROMIUM, 'chromium', 'chromium-browser'].filter((n): n is string => !!n)) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return name;
  }
  return undefined;
}

export const CHROMIUM = find();

/** `describe` when Chromium is here; otherwise a loud skip (a failure under CI). */
export function describeWithChromium(name: string, fn: () => void): void {
  if (CHROMIUM) return describe(name, fn);
  if (process.env.CI) {
    describe(name, () => it('needs chromium (CI installs it in .ci/run)', () => expect(CHROMIUM).toBeDefined()));
    return;
  }
  console.warn(`SKIPPED "${name}": no chromium on this machine (apt-get install -y chromium; .ci/run installs it)`);
  describe.skip(name, fn);
}

/**
 * The DOM of `file` after its scripts ran, rendered headless with every network request
 * refused (a proxy that does not exist), so a page that needs the network shows it.
 */
export function renderedDom(file: string, extra: string[] = []): string {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'sluice-chromium-'));
  try {
    const r = spawnSync(
      CHROMIUM!,
      [
        '--headless',
        '--no-sandbox', // tests run as root in CI
        '--disable-gpu',
        `--user-data-dir=${profile}`,
        '--proxy-server=127.0.0.1:9',
        '--proxy-bypass-list=<-loopback>',
        // Let the page's timers and promises run (rendering is asynchronous) before the dump.
        '--virtual-time-budget=20000',
        ...extra,
        '--dump-dom',
        `file://${file}`,
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    );
    if (r.status !== 0) throw new Error(`chromium failed (${r.status ?? r.signal}): ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** How many SVG marks (paths) Vega drew in the mark groups named `<name>_marks`. */
export function markCount(dom: string, name: string, kind: 'rect' | 'line'): number {
  const groups = dom.matchAll(new RegExp(`<g class="mark-${kind} role-mark ${name}_marks"[^>]*>(.*?)</g>`, 'gs'));
  let n = 0;
  for (const [, inner] of groups) n += (inner.match(/<path\b/g) ?? []).length;
  return n;
}
