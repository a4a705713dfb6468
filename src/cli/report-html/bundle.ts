/**
 * The charting library's browser bundles, read from node_modules when a report is written and
 * inlined into the page, so the page needs no network when it is viewed. Vega-Lite with
 * vega-embed: a declarative grammar (our charts are plain JSON specs, testable without a
 * browser), kept by the UW Interactive Data Lab, rendered to SVG.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Load order matters: vega-lite and vega-embed find vega on the page. */
const BUNDLES = ['vega/build/vega.min.js', 'vega-lite/build/vega-lite.min.js', 'vega-embed/build/vega-embed.min.js'];

let cached: string[] | undefined;

/** The bundles' source, in load order. Their packages export no `build/` path, so they are found on the module search path. */
export function chartBundles(): string[] {
  cached ??= BUNDLES.map((file) => {
    const pkg = file.slice(0, file.indexOf('/'));
    const dirs = require.resolve.paths(pkg) ?? [];
    const found = dirs.map((d) => path.join(d, file)).find((f) => existsSync(f));
    if (!found) throw new Error(`${file} not found (is the "${pkg}" package installed?)`);
    return readFileSync(found, 'utf8');
  });
  return cached;
}
