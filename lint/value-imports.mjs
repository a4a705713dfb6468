// import-x/no-restricted-paths checks every import, `import type` too, and has no option to
// let types cross (4.18.1). DESIGN.md lets them: a type-only import vanishes at run time. So
// this rule runs import-x's own and drops its reports on `import type` / `export type`
// declarations; everything else (zones, path resolution, messages) is import-x's.
import { rules } from 'eslint-plugin-import-x';

const base = rules['no-restricted-paths'];

/** The import or export that `source` (a module specifier node) belongs to is type-only. */
function typeOnly(source) {
  const decl = source?.parent;
  if (!decl) return false;
  if (decl.type === 'ImportDeclaration') return decl.importKind === 'type';
  if (decl.type === 'ExportNamedDeclaration' || decl.type === 'ExportAllDeclaration') return decl.exportKind === 'type';
  return false;
}

const noRestrictedValueImports = {
  meta: { ...base.meta, docs: { ...base.meta.docs, description: 'import-x/no-restricted-paths for value imports only (type-only imports may cross)' } },
  defaultOptions: base.defaultOptions,
  create(context) {
    // The rule sees the real context through the prototype; only report() is filtered.
    const values = Object.create(context, { report: { value: (d) => (typeOnly(d.node) ? undefined : context.report(d)) } });
    return base.create(values);
  },
};

export default { meta: { name: 'sluice-layers' }, rules: { 'no-restricted-value-imports': noRestrictedValueImports } };
