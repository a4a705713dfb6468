// Entry of the Parquet encoder thread. A worker's entry must be JavaScript; the TS loader
// the thread is started with (--import …/register.mjs in execArgv) compiles what it requires.
require('./thread.ts');
