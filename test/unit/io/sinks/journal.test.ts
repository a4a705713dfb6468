/**
 * Commit journals that recovery must not guess about: a temporary that is gone (refused,
 * naming the files, nothing renamed), a commit that died while its journal was being written
 * (undone: the lone copy goes, the old outputs stay), a damaged copy (refused), a live
 * writer's journal (left alone). The journals are made by the real code (sinks prepared,
 * CommitJournal.write) and then given a dead writer's pid, as a killed run leaves them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SinkError } from '../../../../src/errors';
import { openSinks } from '../../../../src/io/sinks';
import { CommitJournal, finishJournals } from '../../../../src/io/sinks/journal';
import { recoverTargets } from '../../../../src/io/sinks/recover';
import { NEW_X, OLD_X, batchOf, readX, sinkConfig, writeOld } from '../../../helpers/sink-outputs';

const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-journal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;

let n = 0;
/**
 * Two outputs (a CSV file, a partitioned CSV directory) with previous outputs, prepared and
 * journaled as a commit would, nothing renamed; then its journal copies are renamed to a dead
 * writer's and the locks released, as after a kill -9 right after the journal.
 */
async function journaled(): Promise<{ dir: string; file: string; tree: string; copies: string[]; temps: string[] }> {
  const dir = path.join(root, `case-${n++}`);
  mkdirSync(dir);
  const file = path.join(dir, 'totals.csv');
  const tree = path.join(dir, 'events');
  await writeOld('csv', file);
  await writeOld('dir-csv', tree);
  const sinks = await openSinks([sinkConfig('csv', file, 'overwrite'), sinkConfig('dir-csv', tree, 'overwrite')]);
  const prepared = [];
  for (const sink of sinks) {
    await sink.write(batchOf(NEW_X), { seq: 0 });
    prepared.push(await sink.prepare());
  }
  const journal = await CommitJournal.write(prepared.map((p) => p.publication));
  for (const sink of sinks) sink.keep();
  const copies = journal.copies.map((c) => c.replace(/sluice-jrnl-\d+-(\d+-)?/, `sluice-jrnl-${deadPid}-`));
  const text = readFileSync(journal.copies[0], 'utf8').split(JSON.stringify(journal.copies[0])).join(JSON.stringify(copies[0])).split(JSON.stringify(journal.copies[1])).join(JSON.stringify(copies[1]));
  journal.copies.forEach((c, i) => {
    writeFileSync(copies[i], text);
    rmSync(c);
  });
  return { dir, file, tree, copies, temps: prepared.map((p) => p.publication.temp) };
}

it('a journal whose writer died is rolled forward by recovery of either target', async () => {
  const { dir, file, tree } = await journaled();
  const done = await recoverTargets([tree]);
  expect(done[0].done[0]).toMatch(new RegExp(`^finished the commit of a run \\(pid ${deadPid}, .*: published ${file}, ${tree} \\(rolled forward from `));
  expect({ file: await readX('csv', file), tree: await readX('dir-csv', tree) }).toEqual({ file: NEW_X, tree: NEW_X });
  expect(readdirSync(dir).sort()).toEqual(['events', 'totals.csv']);
});

it('a temporary that is gone is refused, naming it and the journal; nothing is renamed', async () => {
  const { file, tree, copies, temps } = await journaled();
  rmSync(temps[1], { recursive: true });
  const refused = recoverTargets([file]);
  await expect(refused).rejects.toThrow(SinkError);
  await expect(recoverTargets([file])).rejects.toThrow(`${temps[1]}, the new ${tree}, is gone and the target is not it`);
  await expect(recoverTargets([file])).rejects.toThrow(`remove ${copies.join(', ')}`);
  // Neither output was touched: the file's temporary is still there, unpublished.
  expect({ file: await readX('csv', file), tree: await readX('dir-csv', tree) }).toEqual({ file: OLD_X, tree: OLD_X });
  expect(existsSync(temps[0])).toBe(true);
  expect(copies.every((c) => existsSync(c))).toBe(true);
});

it('a commit killed while writing its journal (a copy missing, nothing published) is undone: old outputs stay', async () => {
  const { dir, file, tree, copies, temps } = await journaled();
  rmSync(copies[1]);
  // The temporaries are this (live) process's here: a dead run's would be removed with them.
  const done = await recoverTargets([file, tree]);
  expect(done[0].done[0]).toMatch(new RegExp(`^removed ${copies[0]}: a run \\(pid ${deadPid}, .*before its journal was complete; nothing of it was published, the previous outputs stay$`));
  expect({ file: await readX('csv', file), tree: await readX('dir-csv', tree) }).toEqual({ file: OLD_X, tree: OLD_X });
  expect(readdirSync(dir).filter((f) => f.includes('jrnl'))).toEqual([]);
  for (const t of temps) rmSync(t, { recursive: true });
});

it('a damaged copy is refused, naming it', async () => {
  const { file, copies } = await journaled();
  writeFileSync(copies[0], '{"sluiceCommitJournal": 1, "entr');
  await expect(recoverTargets([file])).rejects.toThrow(`cannot read the commit journal ${copies[0]}`);
});

it("a live writer's journal is left alone", async () => {
  const { file, copies } = await journaled();
  const live = copies.map((c) => c.replace(`sluice-jrnl-${deadPid}-`, `sluice-jrnl-${process.pid}-`));
  copies.forEach((c, i) => renameSync(c, live[i]));
  expect(await finishJournals(file)).toEqual([]);
  expect(live.every((c) => existsSync(c))).toBe(true);
});
