/** Where the TS loader lives, so threads and child processes can be started with it. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REGISTER_FILE = path.join(__dirname, 'register.mjs');

/** `execArgv` for a worker thread or child process that must load TypeScript stages. */
export function loaderExecArgv(): string[] {
  return ['--import', pathToFileURL(REGISTER_FILE).href];
}
