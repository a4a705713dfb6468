/** src/own-js.ts: which `.js` files skip the TS loader's hook, and that the rest still go through it. */
import Module from 'node:module';
import path from 'node:path';
import { isOwnJs, ownPrefixes, registerPastOwnJs } from '../../src/own-js';

const SRC = path.resolve(__dirname, '../../src');
const NM = path.resolve(__dirname, '../../node_modules');
type JsLoader = (module: NodeModule, filename: string) => void;
const extensions = (Module as unknown as { _extensions: Record<string, JsLoader> })._extensions;

describe('isOwnJs', () => {
  it("sluice's own files and the packages it loads itself (pino with its dependencies) are; the user's files, other packages and packages nested in ours are not", () => {
    expect(ownPrefixes()).toEqual(expect.arrayContaining([SRC + path.sep, path.join(NM, 'nodejs-polars') + path.sep, path.join(NM, 'pino') + path.sep, path.join(NM, 'sonic-boom') + path.sep, path.join(NM, 'piscina') + path.sep]));
    expect(isOwnJs(path.join(SRC, 'csv/parse.js'))).toBe(true);
    expect(isOwnJs(path.join(NM, 'nodejs-polars/bin/index.js'))).toBe(true);
    expect(isOwnJs(path.join(NM, 'sonic-boom/index.js'))).toBe(true);
    expect(isOwnJs(path.join(SRC, 'register.cjs'))).toBe(false); // `.js` only: tsx's `.cjs` handling is kept
    expect(isOwnJs(path.join(NM, 'pino/node_modules/other/index.js'))).toBe(false);
    expect(isOwnJs(path.join(NM, 'lodash/index.js'))).toBe(false);
    expect(isOwnJs(path.resolve(SRC, '../test/fixtures/stages/helper.js'))).toBe(false);
    expect(isOwnJs('/elsewhere/project/stage.js')).toBe(false);
  });
});

describe('registerPastOwnJs', () => {
  const real = extensions['.js'];
  afterEach(() => {
    extensions['.js'] = real;
  });

  it('after the registration, own files load with the loader from before it and every other file with the new one', () => {
    const calls: string[] = [];
    const node: JsLoader = (_m, f) => calls.push(`node ${path.basename(f)}`);
    const tsx: JsLoader = (_m, f) => calls.push(`tsx ${path.basename(f)}`);
    extensions['.js'] = node;
    registerPastOwnJs(() => {
      extensions['.js'] = tsx;
    });
    const m = {} as NodeModule;
    extensions['.js'](m, path.join(SRC, 'csv/parse.js'));
    extensions['.js'](m, path.join(NM, 'nodejs-polars/bin/index.js'));
    extensions['.js'](m, '/elsewhere/project/helper.js');
    expect(calls).toEqual(['node parse.js', 'node index.js', 'tsx helper.js']);
  });

  it('a registration that hooks nothing (the loader was there already) changes nothing', () => {
    const node: JsLoader = () => undefined;
    extensions['.js'] = node;
    registerPastOwnJs(() => undefined);
    expect(extensions['.js']).toBe(node);
  });
});
