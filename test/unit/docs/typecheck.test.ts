/**
 * Every ```ts block in README.md and docs/ typechecks against the declarations the package
 * ships (dist/*.d.ts, as a user's project sees them), strict. A block that cannot (a fragment,
 * a placeholder) says why on the line before its fence: `<!-- docs: no-typecheck (reason) -->`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { codeBlocks, docFiles, REPO, type CodeBlock } from '../../../scripts/docs/markdown';
import { requireBuild } from '../../helpers/package';

const blocks = docFiles().flatMap((f) => codeBlocks(f)).filter((b) => b.lang === 'ts' || b.lang === 'typescript');
const where = (b: CodeBlock) => `${path.relative(REPO, b.file)}:${b.line}`;

/** Type errors of each block, by its place in the docs. */
function typecheck(checked: CodeBlock[]): Map<string, string[]> {
  // Inside the repo's node_modules, so apache-arrow, nodejs-polars, @types/* resolve as in a project.
  const cache = path.join(REPO, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(path.join(cache, 'sluice-docs-ts-'));
  try {
    const files = checked.map((b, i) => {
      const file = path.join(dir, `block-${i}.ts`);
      // Each block is a module of its own, so two examples may declare the same names.
      writeFileSync(file, `${b.code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node', 'jest'],
      typeRoots: [path.join(REPO, 'node_modules/@types')],
      baseUrl: REPO,
      // What `import … from 'sluice'` gives a user: the built declarations, not src/.
      paths: { sluice: ['dist/index.d.ts'], 'sluice/testing': ['dist/testing/index.d.ts'] },
    });
    const out = new Map<string, string[]>();
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const i = d.file ? files.indexOf(d.file.fileName) : -1;
      const key = i >= 0 ? where(checked[i]) : '(global)';
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      out.set(key, [...(out.get(key) ?? []), `block line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`]);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('finds the ts blocks (README and docs/)', () => {
  expect(blocks.filter((b) => b.file.endsWith('README.md')).length).toBeGreaterThanOrEqual(2);
  expect(blocks.filter((b) => b.file.includes(`${path.sep}docs${path.sep}`)).length).toBeGreaterThanOrEqual(5);
});

// A block that must fail, checked in the same program (one program: the checker's start-up is
// most of the time): the test would pass vacuously if errors were not found.
const BAD: CodeBlock = {
  file: path.join(REPO, 'docs/(a deliberately wrong block).md'),
  line: 1,
  lang: 'ts',
  code: "import { definePipeline } from 'sluice';\nexport default definePipeline({ name: 'x', source: { format: 'csv', path: 'a.csv' }, stages: [{ name: 's', module: './s.ts', mode: 'threads' }], sink: { format: 'csv', path: 'b.csv' } });",
};

let errors: Map<string, string[]>;
beforeAll(() => {
  requireBuild();
  errors = typecheck([...blocks.filter((b) => b.optOut === undefined), BAD]);
}, 90_000);

it('every ts block typechecks against the built .d.ts, or says why it opts out', () => {
  expect(Object.fromEntries([...errors].filter(([k]) => k !== where(BAD)))).toEqual({});
  for (const b of blocks.filter((x) => x.optOut !== undefined)) expect({ at: where(b), reason: b.optOut!.trim().length > 5 }).toEqual({ at: where(b), reason: true });
});

it('catches a block that does not typecheck (here a wrong mode)', () => {
  expect(errors.get(where(BAD))?.join('\n')).toMatch(/"threads"/);
});
