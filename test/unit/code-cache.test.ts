/**
 * src/code-cache.ts as built: V8's compiled code of the build's own files kept between
 * processes. The built module is copied into a scratch folder beside a few modules of its
 * own, so each test owns its "build" and its cache directory (TMPDIR).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, runNode } from '../helpers/cli';
import { requireBuild } from '../helpers/package';

const BUILT = path.join(REPO, 'dist/code-cache.js');
const UID = process.getuid!();

let root: string;
let build: string;
let tmp: string;
const cacheDir = () => path.join(tmp, `sluice-code-cache-${UID}`);
/** The cache's entries: file name → inode (a rewrite is a rename, so a new inode). */
const entries = () => new Map(readdirSync(cacheDir()).map((f) => [f, statSync(path.join(cacheDir(), f)).ino]));

beforeAll(requireBuild);
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sluice-code-cache-test-'));
  build = path.join(root, 'build');
  tmp = path.join(root, 'tmp');
  mkdirSync(build);
  mkdirSync(tmp);
  copyFileSync(BUILT, path.join(build, 'code-cache.js'));
  // Line 3 throws when asked: a stack must name its line and column as Node's own loader does (3:30).
  writeFileSync(path.join(build, 'm.js'), `'use strict';\nconst n = require('./n.js');\nexports.boom = () => { throw new Error('boom'); };\nexports.v = 1 + n.one;\nexports.where = path => [__filename === path, require.resolve('./n.js'), module.id === path];\n`);
  writeFileSync(path.join(build, 'n.js'), `exports.one = 1;\n`);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** `node -e` that installs the cache (unless `probe` comes first) and prints what m.js says. */
function runM(env: NodeJS.ProcessEnv = {}, preload: string[] = []) {
  const m = path.join(build, 'm.js');
  const script = `require(${JSON.stringify(path.join(build, 'code-cache.js'))});
const m = require(${JSON.stringify(m)});
let stack = ''; try { m.boom(); } catch (e) { stack = e.stack.split('\\n')[1].trim(); }
console.log(JSON.stringify({ v: m.v, where: m.where(${JSON.stringify(m)}), stack }));`;
  return runNode([...preload, '-e', script], { env: { TMPDIR: tmp, ...env } });
}

const expected = (v: number) => ({ v, where: [true, path.join(build, 'n.js'), true], stack: `at exports.boom (${path.join(build, 'm.js')}:3:30)` });

describe('code cache', () => {
  it("the first process leaves an entry per own file in a directory of the user's only; the next compiles from them and rewrites none", async () => {
    const first = await runM();
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toEqual(expected(2));
    expect(statSync(cacheDir()).mode & 0o777).toBe(0o700);
    const after = entries();
    expect([...after.keys()].map((f) => f.replace(/^[0-9a-f]+-/, '')).sort()).toEqual(['m.js', 'n.js']);
    const second = await runM();
    expect(JSON.parse(second.stdout)).toEqual(expected(2));
    expect(entries()).toEqual(after); // accepted by V8: a rejected entry would have been written again
  });

  it('an entry V8 rejects (damaged) is compiled past and replaced', async () => {
    await runM();
    const [name] = [...entries().keys()].filter((f) => f.endsWith('-m.js'));
    const file = path.join(cacheDir(), name);
    const bytes = readFileSync(file);
    const header = bytes.indexOf('\n') + 1;
    writeFileSync(file, Buffer.concat([bytes.subarray(0, header), Buffer.alloc(bytes.length - header, 7)]));
    const before = statSync(file).ino;
    const r = await runM();
    expect(JSON.parse(r.stdout)).toEqual(expected(2));
    expect(statSync(file).ino).not.toBe(before);
  });

  it('a file changed to the same size and the same modification time runs as it is now, not as cached', async () => {
    const n = path.join(build, 'n.js');
    const npmTime = new Date('1985-10-26T08:15:00Z'); // what npm sets on every file it packs
    utimesSync(n, npmTime, npmTime);
    await runM();
    writeFileSync(n, `exports.one = 5;\n`); // as a reinstall would leave it: same size, same mtime
    utimesSync(n, npmTime, npmTime);
    expect(statSync(n).mtimeMs).toBe(npmTime.getTime());
    const r = await runM();
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(expected(6));
  });

  it('a cache directory others may write is not used', async () => {
    mkdirSync(cacheDir());
    chmodSync(cacheDir(), 0o777);
    const r = await runM();
    expect(JSON.parse(r.stdout)).toEqual(expected(2));
    expect(entries().size).toBe(0);
  });

  it('SLUICE_CODE_CACHE=0 turns it off', async () => {
    const r = await runM({ SLUICE_CODE_CACHE: '0' });
    expect(JSON.parse(r.stdout)).toEqual(expected(2));
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a _compile hook installed before it still sees every file (the cache steps aside)', async () => {
    const log = path.join(root, 'compiled.log');
    const probe = path.join(root, 'probe.cjs');
    writeFileSync(probe, `const M = require('node:module'); const c = M.prototype._compile;\nM.prototype._compile = function (content, filename) { require('node:fs').appendFileSync(${JSON.stringify(log)}, filename + '\\n'); return c.apply(this, arguments); };\n`);
    const r = await runM({}, ['-r', probe]);
    expect(JSON.parse(r.stdout)).toEqual(expected(2));
    expect(readFileSync(log, 'utf8').trim().split('\n').map((f) => path.basename(f)).filter((f) => f.endsWith('.js'))).toEqual(['code-cache.js', 'm.js', 'n.js']);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
