// The docs site: `npm run docs` (the API reference first, then this), `npm run docs:dev` to
// edit with a live preview. The pages are plain Markdown that read well on the code host too.
import { defineConfig } from 'vitepress';
import { slug } from '../../scripts/docs/slug';

export default defineConfig({
  title: 'sluice',
  description: 'Stream-processing ETL for Node.js: Arrow batches through inline, thread and process stages',
  // Relative links that leave docs/ (the changelog, the bench history, the example cases)
  // point at files of the repository: they work on the code host, not in the site.
  ignoreDeadLinks: [/(^|\/)\.\.\//, /^\/api\//],
  // Anchors as GitHub makes them, so one link works on the code host and in the site.
  markdown: { anchor: { slugify: slug } },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/getting-started' },
      { text: 'API reference', link: '/api/index.html', target: '_self' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'Getting started', link: '/getting-started' },
          { text: 'Writing stages', link: '/writing-stages' },
          { text: 'Configuration reference', link: '/configuration' },
          { text: 'Sources and sinks', link: '/sources-and-sinks' },
          { text: 'Failures and guarantees', link: '/failures' },
          { text: 'Testing your pipeline', link: '/testing' },
          { text: 'Running it every night', link: '/running-nightly' },
          { text: 'Past one machine', link: '/cluster' },
          { text: 'The command line', link: '/cli' },
          { text: 'Performance', link: '/performance' },
          { text: 'Architecture', link: '/architecture' },
        ],
      },
    ],
    search: { provider: 'local' },
  },
});
