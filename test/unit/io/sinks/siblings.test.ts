/** What dead runs leave beside a sink target is cleaned up (or put back) by the next run; a live run's is kept. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import type { Logger } from 'pino';
import { openSink } from '../../../../src/io/sinks';
import { listSiblings, processAlive, processStart, recoverSiblings, tempSibling } from '../../../../src/io/sinks/siblings';
import { engineRoot, registerForChild } from '../../../helpers/register-for-child';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-siblings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const batch = tableFromArrays({ x: Int32Array.from([1]) }).batches[0];
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const fakeLog = () => {
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, msg: string) => warnings.push(msg), debug: () => undefined, info: () => undefined } as unknown as Logger;
  return { log, warnings };
};
const besides = (target: string) => readdirSync(path.dirname(target)).filter((n) => n.includes(path.basename(target))).sort();

it("removes a dead run's temporaries (files and directories), keeps a live run's, and logs each removal", async () => {
  const target = path.join(dir, 'out.csv');
  const dead = deadPid();
  const deadFile = path.join(dir, `.out.csv.sluice-tmp-${dead}-0badcafe`);
  const deadTree = path.join(dir, `.out.csv.sluice-tmp-${dead}-1badcafe`);
  const deadLock = path.join(dir, `.out.csv.sluice-lock-${dead}-2badcafe`);
  const live = path.join(dir, `.out.csv.sluice-tmp-${process.pid}-3badcafe`);
  const otherTarget = path.join(dir, `.out.csv.bak.sluice-tmp-${dead}-4badcafe`);
  writeFileSync(deadFile, 'half');
  mkdirSync(path.join(deadTree, 'k=1'), { recursive: true });
  writeFileSync(deadLock, '{}');
  writeFileSync(live, 'still being written');
  writeFileSync(otherTarget, 'another target');
  const { log, warnings } = fakeLog();
  const sink = await openSink({ format: 'csv', path: target }, { log });
  await sink.write(batch, { seq: 0 });
  await sink.commit();
  expect(existsSync(deadFile) || existsSync(deadTree) || existsSync(deadLock)).toBe(false);
  expect(readFileSync(live, 'utf8')).toBe('still being written');
  expect(existsSync(otherTarget)).toBe(true);
  for (const f of [deadFile, deadTree, deadLock]) expect(warnings).toContain(`removed ${f}, left behind by a run that died (pid ${dead})`);
  expect(warnings).toHaveLength(3);
});

it('a partitioned overwrite killed between its two renames is put back by the next run', async () => {
  const target = path.join(dir, 'parts');
  mkdirSync(path.join(target, 'k=old'), { recursive: true });
  writeFileSync(path.join(target, 'k=old', 'part-00000.csv'), 'x\n1\n');
  // The built engine when dist/ is current: no TS loader, no compile of src/ in the child.
  const engine = engineRoot();
  const loader = engine.endsWith('dist') ? [] : registerForChild();
  const child = spawnSync(process.execPath, [...loader, path.resolve(__dirname, '../../../fixtures/sinks/crash-between-renames.cjs'), engine, target], { encoding: 'utf8' });
  expect(child.signal).toBe('SIGKILL');
  // The window itself: nothing at the target, the old tree and the new one beside it.
  expect(existsSync(target)).toBe(false);
  expect(besides(target).map((n) => n.replace(/-\d+-(\d+-)?[0-9a-f]{8}$/, ''))).toEqual(['.parts.sluice-old', '.parts.sluice-tmp']);

  const { log, warnings } = fakeLog();
  const sink = await openSink({ format: 'csv', path: target, partitionBy: ['x'] }, { log });
  expect(readFileSync(path.join(target, 'k=old', 'part-00000.csv'), 'utf8')).toBe('x\n1\n');
  expect(warnings[0]).toBe(`restored ${target}: a run (pid ${child.pid}) died while replacing it`);
  await sink.abort();
  expect(besides(target)).toEqual(['parts']);
  expect(readdirSync(target)).toEqual(['k=old']);
});

describe('a live pid is the writer only if it started when the writer did (the sink lock’s rule)', () => {
  const myStart = processStart(process.pid)!;
  const initStart = processStart(1)!;
  const wrong = (s: string) => String(Number(s) + 12345);
  it.each([
    ['pid 1 (always alive in a container) with another start time', 'removed', () => `1-${wrong(initStart)}`],
    ["the test's own pid with another start time (a pid reused)", 'removed', () => `${process.pid}-${wrong(myStart)}`],
    ["the test's own pid with its own start time (this very run's)", 'kept', () => `${process.pid}-${myStart}`],
    ['pid 1 in a name without a start (older sluice): the pid alone decides', 'kept', () => '1'],
  ])('%s: %s', async (_what, expected, pidPart) => {
    const target = path.join(dir, `live-${pidPart().replace(/\W/g, '_')}.csv`);
    const temp = path.join(dir, `.${path.basename(target)}.sluice-tmp-${pidPart()}-0badcafe`);
    writeFileSync(temp, 'half');
    const { log, warnings } = fakeLog();
    await recoverSiblings(target, log);
    expect(existsSync(temp)).toBe(expected === 'kept');
    expect(warnings).toEqual(expected === 'kept' ? [] : [`removed ${temp}, left behind by a run that died (pid ${pidPart().split('-')[0]})`]);
    rmSync(temp, { force: true });
  });

  it('a name sluice writes carries its pid and start, and reads back as this live process', () => {
    const [s] = (() => {
      const t = path.join(dir, 'named.csv');
      writeFileSync(tempSibling(t), '');
      return listSiblings(t);
    })();
    expect(s).toMatchObject({ pid: process.pid, start: myStart, tag: 'tmp' });
    expect(processAlive(s.pid, s.start)).toBe(true);
    rmSync(s.path);
  });
});

it('a zombie (killed, not yet reaped) is not alive: its temporaries and locks are a dead run\'s', async () => {
  // `sh` starts `cat` on a FIFO and becomes `sleep`, which never reaps it. `cat` exits only once
  // the FIFO is opened for writing, after the exec: `sh` itself can no longer reap it then.
  const fifo = path.join(dir, 'zombie.fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const parent = spawn('sh', ['-c', 'cat "$0" > /dev/null & echo $!; exec sleep 30', fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[0];
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((r) => setImmediate(r));
  };
  try {
    const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(String(d).trim()))));
    await until(() => readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim() === 'sleep');
    writeFileSync(fifo, ''); // opens it for writing: cat reads its end and exits
    await until(() => stateOf(pid) === 'Z');
    expect(() => process.kill(pid, 0)).not.toThrow(); // signal 0 still reaches it
    expect(processAlive(pid)).toBe(false);
    expect(processAlive(pid, processStart(pid))).toBe(false);
  } finally {
    parent.kill('SIGKILL');
  }
});
