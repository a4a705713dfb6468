#!/usr/bin/env node
'use strict';
// The `sluice` command. Registers sluice's own TypeScript loader (by absolute path, so it
// works from any working directory), then hands over to the CLI written in TypeScript.
const path = require('node:path');
const { pathToFileURL } = require('node:url');

// glibc gives every thread that allocates its own malloc arena and keeps freed memory in
// it; polars allocates from the main thread, stage threads and the Parquet encoder thread,
// which measured 1.1–1.5 GB peak RSS for a conversion that needs 0.7 GB. Two arenas fix
// that (and run faster), but glibc reads MALLOC_ARENA_MAX only at start-up: so the command
// re-runs itself once with it set, unless the user set it already.
if (process.platform === 'linux' && process.env.MALLOC_ARENA_MAX === undefined) {
  relaunch({ ...process.env, MALLOC_ARENA_MAX: '2' });
} else {
  const src = path.join(__dirname, '..', 'src');
  import(pathToFileURL(path.join(src, 'register.mjs')).href)
    .then(() => import(pathToFileURL(path.join(src, 'cli', 'main.ts')).href))
    .then((cli) => (cli.main ?? cli.default.main)(process.argv.slice(2)))
    .then((code) => {
      process.exitCode = code;
    })
    .catch((err) => {
      process.stderr.write(`sluice: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 1;
    });
}

function relaunch(env) {
  const { spawn } = require('node:child_process');
  // Its own process group, so a Ctrl-C at the terminal reaches it once (forwarded from here),
  // not twice (a second SIGINT would stop the run before it cleans up).
  const child = spawn(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit', env, detached: true });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  // If this process dies unexpectedly, do not leave the run behind.
  process.on('exit', () => child.exitCode === null && child.signalCode === null && child.kill('SIGTERM'));
  child.on('error', (err) => {
    process.stderr.write(`sluice: cannot start: ${err.message}\n`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exitCode = code ?? 1;
  });
}
