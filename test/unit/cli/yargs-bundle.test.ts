/**
 * The built CLI parses with yargs bundled into one CommonJS file (scripts/bundle-yargs.mjs):
 * it must print and parse exactly as the yargs package does — help layout (the string-width
 * stand-in), localized messages (yargs finds its locales beside the installed package),
 * usage errors, --version, parsed values. The cases and locales are in the fixture program.
 */
import path from 'node:path';
import { REPO, runNode } from '../../helpers/cli';
import { requireBuild } from '../../helpers/package';

const PROGRAM = path.join(REPO, 'test/fixtures/scripts/yargs-help.cjs');

describe('the bundled yargs', () => {
  beforeAll(requireBuild);

  it('prints and parses as the package: every case, every locale', async () => {
    const [bundled, original] = await Promise.all([runNode([PROGRAM, 'bundle']), runNode([PROGRAM, 'package'])]);
    expect(original.code).toBe(0);
    expect(original.stdout).toContain('Unbekanntes Argument: nope'); // the locales were found
    expect(original.stdout).toContain('one ’ column');
    expect(bundled).toEqual(original);
  });
});
