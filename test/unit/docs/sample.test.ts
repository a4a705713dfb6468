/**
 * The quick start's sample output (docs/getting-started.md) is written by `npm run
 * docs:sample` from a run of the example job, not pasted: this runs the job again and checks
 * the page shows today's summary. Timings, sizes and memory differ from run to run, so the
 * numbers are compared as numbers-go-here; every word, stage, column and line must match.
 */
import { readFileSync } from 'node:fs';
import { between } from '../../../scripts/docs/markdown';
import { exampleSummary, SAMPLE_PAGE, sampleBlock } from '../../../scripts/docs/sample';
import { requireBuild } from '../../helpers/package';

/** The summary's shape: each duration, size and number as a placeholder, runs of spaces as one. */
export function shape(text: string): string {
  return text
    .split('\n')
    .map((l) =>
      l
        .replace(/\d[\d,.]*\s?(ms|s|min)\b/g, '<time>')
        .replace(/\d[\d,.]*\s?(B|KiB|MiB|GiB)\b/g, '<size>')
        .replace(/\d[\d,.]*/g, '#')
        .replace(/ +/g, ' ')
        .trimEnd(),
    )
    .join('\n');
}

it('shows the summary the example job prints today (npm run docs:sample rewrites it)', () => {
  requireBuild();
  const shown = between(readFileSync(SAMPLE_PAGE, 'utf8'), 'sample');
  expect(shown).toBeDefined();
  expect(shape(shown!)).toBe(shape(sampleBlock(exampleSummary())));
}, 60_000);

it('compares shapes: numbers may differ, words and lines may not', () => {
  expect(shape('source  20,000 rows  1.5 MiB  424 ms')).toBe(shape('source 19,999 rows 3.1 KiB 4.01 s'));
  expect(shape('clean inline 1')).not.toBe(shape('clean thread 1'));
  expect(shape('a\nb')).not.toBe(shape('a'));
});
