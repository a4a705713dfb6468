/** The processes of a run's tree, from /proc (Linux, as the engine's own supervision is). */
import { readdirSync, readFileSync } from 'node:fs';
import { fairTimeout } from './fair-clock';

/** Every process below `pid`. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** Whether `pid` is stopped (state T in /proc/<pid>/stat). */
export function stopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

/**
 * SIGKILL `child` once it has stopped itself (a SLUICE_TEST_STOP_AT hook), waiting on the
 * condition itself (its state in /proc) with a deadline on the fair-share clock: no fixed sleep. Resolves once it is gone.
 */
export async function killWhenStopped(child: import('node:child_process').ChildProcess, what: string, deadlineMs = 60_000): Promise<NodeJS.Signals | null> {
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let gone = false;
  void exited.then(() => (gone = true));
  let expired = false;
  const cancel = fairTimeout(deadlineMs, () => (expired = true));
  try {
    while (!stopped(child.pid!)) {
      if (gone) throw new Error(`it ended before stopping ${what}: ${stderr}`);
      if (expired) {
        child.kill('SIGKILL');
        throw new Error(`it did not stop ${what} within ${deadlineMs / 1000} s of a fair share of the CPU: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    cancel();
  }
  child.kill('SIGKILL');
  return exited;
}

/**
 * Start `sluice <args>` with SLUICE_TEST_STOP_AT=`stopAt`; once it has stopped itself, SIGKILL
 * it and every process below it (kill -9 of the whole tree: stage children, the watcher).
 * Returns how many processes were below it. Waits on the condition (/proc), not a time.
 */
export async function killTreeAt(bin: string, args: string[], stopAt: string, deadlineMs = 120_000): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn(bin, args, { env: { ...process.env, SLUICE_TEST_STOP_AT: stopAt }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
  let gone = false;
  void exited.then(() => (gone = true));
  let expired = false;
  const cancel = fairTimeout(deadlineMs, () => (expired = true));
  try {
    while (!stopped(child.pid!)) {
      if (gone || expired) {
        child.kill('SIGKILL');
        throw new Error(`the run did not stop at ${stopAt}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    cancel();
  }
  const tree = descendants(child.pid!);
  for (const pid of [child.pid!, ...tree]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`the run ended by ${signal}, not by the SIGKILL`);
  return tree.length;
}
