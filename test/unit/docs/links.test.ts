/**
 * Every relative link in README.md, CHANGELOG.md and docs/ points at a file that exists, and
 * every #anchor at a heading of that page (as GitHub and the docs site both make anchors).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { anchors, docFiles, links, REPO } from '../../../scripts/docs/markdown';

const pages = docFiles();

/** What is wrong with one link, or undefined. */
export function brokenLink(from: string, target: string): string | undefined {
  if (/^[a-z][a-z+.-]*:/i.test(target)) return undefined; // https:, mailto: — not ours to check
  const [file, anchor] = target.split('#') as [string, string | undefined];
  const to = file === '' ? from : path.resolve(path.dirname(from), decodeURIComponent(file));
  if (!existsSync(to)) return `${path.relative(REPO, to)} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(to).isDirectory() || !to.endsWith('.md')) return `#${anchor} on ${path.relative(REPO, to)}, which is not a Markdown page`;
  return anchors(readFileSync(to, 'utf8')).has(anchor) ? undefined : `${path.relative(REPO, to)} has no heading whose anchor is #${anchor}`;
}

it('finds the pages (README, CHANGELOG and every guide page)', () => {
  const names = pages.map((p) => path.relative(REPO, p));
  expect(names).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/getting-started.md', 'docs/failures.md', 'docs/running-nightly.md']));
});

it.each(pages.map((p) => [path.relative(REPO, p), p]))('%s: every relative link and anchor resolves', (_name, page) => {
  const broken = links(readFileSync(page, 'utf8'))
    .map((l) => ({ ...l, why: brokenLink(page, l.target) }))
    .filter((l) => l.why !== undefined)
    .map((l) => `line ${l.line}: (${l.target}): ${l.why}`);
  expect(broken).toEqual([]);
});

describe('the checker itself', () => {
  const readme = path.join(REPO, 'README.md');
  it('refuses a missing file, a missing anchor and an anchor on a non-page', () => {
    expect(brokenLink(readme, 'docs/nope.md')).toMatch(/docs\/nope\.md does not exist/);
    expect(brokenLink(readme, 'docs/failures.md#no-such-heading')).toMatch(/has no heading whose anchor is #no-such-heading/);
    expect(brokenLink(readme, 'package.json#x')).toMatch(/not a Markdown page/);
    expect(brokenLink(readme, '#quick-start')).toBeUndefined();
    expect(brokenLink(readme, 'docs/failures.md#exit-codes')).toBeUndefined();
  });

  it('makes anchors as GitHub does: code marks and punctuation dropped, repeats numbered', () => {
    expect([...anchors('# A stage with `flush`, one copy\n## Foo\n## Foo\n## kill -9\n```\n# not a heading\n```\n')]).toEqual(['a-stage-with-flush-one-copy', 'foo', 'foo-1', 'kill--9']);
  });
});
