/**
 * Whether dist/ is the build of src/ as it is: the very test bin/sluice.js makes to run dist/
 * (bin/build-stamp.js: its stamp no older than any file of src/). CommonJS so jest.config.js
 * can use it as well as the tests (through package.ts).
 */
const path = require('node:path');
const { stampIsCurrent } = require('../../bin/build-stamp.js');

const REPO = path.resolve(__dirname, '../..');

function builtIsCurrent(root = REPO) {
  return stampIsCurrent(root);
}

module.exports = { builtIsCurrent, REPO };
