// Entry of a stage child's I/O thread. A worker's entry must be JavaScript; the TS loader
// the thread inherits (--import …/register.mjs in execArgv) compiles what it requires.
require('./process-io.ts');
