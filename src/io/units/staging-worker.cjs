// Entry of the staging thread (staging-thread.ts). A worker's entry must be JavaScript; the TS loader
// the thread is started with (--import …/register.mjs in execArgv) compiles what it requires.
const { parentPort } = require('node:worker_threads');
require('./staging-worker.ts').serveStaging(parentPort, () => process.exit(0));
