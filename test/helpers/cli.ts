/** Spawn the real `sluice` command (bin/sluice, which execs node on bin/sluice.js) the way a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fairTimeout } from './fair-clock';

export const BIN = path.resolve(__dirname, '../../bin/sluice');
export const REPO = path.resolve(__dirname, '../..');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** A hang limit, in ms of a fair share of the CPU (test/helpers/fair-clock.cjs); default 45 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** A command the node process is started through, e.g. `['prlimit', '--fsize=1024']`. */
  wrap?: string[];
  /** Called once the process is started (to signal it from outside). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs `sluice <args>`; kills it after `timeoutMs` so a hang fails the test instead of the suite. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return runCommand([BIN, ...args], opts, `sluice ${args.join(' ')}`);
}

/** Runs `node <nodeArgs>` the same way (a script using the programmatic API, say). */
export function runNode(nodeArgs: string[], opts: RunOptions = {}, label = `node ${nodeArgs.join(' ')}`): Promise<CliResult> {
  return runCommand([process.execPath, ...nodeArgs], opts, label);
}

function runCommand(argv: string[], opts: RunOptions, label: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command, ...rest] = [...(opts.wrap ?? []), ...argv];
    const child = spawn(command, rest, {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Counted in a fair share of the CPU (fair-clock.cjs): a busy machine stretches it, a hang does not.
    const limitMs = opts.timeoutMs ?? 45_000;
    const cancel = fairTimeout(limitMs, () => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not finish within ${limitMs} ms of a fair share of the CPU (hang)\n${stderr}`));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      cancel();
      resolve({ code, signal, stdout, stderr });
    });
  });
}
