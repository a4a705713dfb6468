/**
 * The anchor a heading gets on GitHub (github-slugger's rule): lower case, markup and
 * punctuation dropped, each space a hyphen, a repeat suffixed -1, -2, … The link test checks
 * anchors with it and the VitePress site uses it too, so one link works in both places.
 */
export function slug(heading: string): string {
  return heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** A slugger for one page: the second "Foo" is foo-1, as on GitHub. */
export function slugger(): (heading: string) => string {
  const seen = new Map<string, number>();
  return (heading: string) => {
    const base = slug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}-${n}`;
  };
}
