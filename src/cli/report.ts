/** The run report for humans: one line per stage, plus source, sink and totals. */
import type { RunReport } from '../runtime/types';
import { bytes, count, ms, table } from './format';
import { rowsWritten, sinksOf } from './report-sinks';

export function renderReport(r: RunReport): string {
  const sinks = sinksOf(r);
  const rows: string[][] = [
    ['source', '—', '—', '', count(r.source.rows), count(r.source.batches), bytes(r.source.bytes), ms(r.source.busyMs), '', ms(r.source.blockedMs), ''],
    ...r.stages.map((s) => [
      s.name,
      s.mode,
      String(s.copies),
      `${count(s.rowsIn)} / ${count(s.batchesIn)}`,
      count(s.rowsOut),
      count(s.batchesOut),
      bytes(s.bytesOut),
      ms(s.busyMs),
      ms(s.idleMs),
      ms(s.blockedMs),
      String(s.peakInFlight),
    ]),
    ...sinks.map((s) => [sinks.length === 1 ? 'sink' : `sink ${s.name}`, '—', '—', `${count(s.rows)} / ${count(s.batches)}`, '', '', bytes(s.bytes), ms(s.busyMs), '', '', '']),
  ];
  const head = ['stage', 'mode', 'copies', 'in rows/batches', 'out rows', 'out batches', 'out bytes', 'busy', 'idle (no input)', 'blocked (full)', 'peak in flight'];
  const secs = r.durationMs / 1000;
  const rate = secs > 0 ? Math.round(r.source.rows / secs) : 0;
  const status = r.ok ? '✔' : '✖';
  const lines = [
    `${status} ${r.pipeline}: ${count(r.source.rows)} rows from ${r.source.files} file(s) → ${count(rowsWritten(r))} rows${sinks.length > 1 ? ` in ${sinks.length} sinks` : ''} in ${ms(r.durationMs)} (${count(rate)} rows/s; start-up ${ms(r.startupMs)}), peak RSS ${bytes(r.peakRssBytes)}${r.peakRss?.children.length ? ` (main ${bytes(r.peakRss.mainBytes)} + ${r.peakRss.children.length} child process(es) ${bytes(r.peakRssBytes - r.peakRss.mainBytes)})` : ''}`,
    table(head, rows),
  ];
  const transport = r.stages.filter((s) => s.mode !== 'inline');
  if (transport.length) {
    lines.push(
      transport
        .map((s) => `  ${s.name}: transport copied ${bytes(s.transport.bytesCopied)}, packed ${bytes(s.transport.bytesPacked)}, serialised ${bytes(s.transport.bytesSerialized)}`)
        .join('\n'),
    );
  }
  for (const s of r.stages) {
    const t = s.retries;
    if (t) lines.push(`  ${s.name}: ${t.retried} batch attempt(s) sent again (batches ${t.batches.map((b) => `#${b}`).join(', ') || '—'}), ${t.replaced} copy(ies) replaced, ${t.timedOut} timed out`);
  }
  for (const s of sinks) {
    const enc = s.encoder;
    const which = sinks.length === 1 ? 'the sink' : `sink ${s.name}`;
    if (enc) lines.push(`  Parquet encoder${sinks.length === 1 ? '' : ` of ${s.name}`}: ${enc.threadsStarted} thread(s)${enc.groupsOnMainThread ? ` and ${enc.groupsOnMainThread} row group(s) on the main thread` : ''}, busy ${ms(enc.busyMs)} (reading, parsing, encoding); ${which} waited ${ms(enc.slotWaitMs)} for a free slot`);
  }
  if (r.direct) {
    lines.push(`  direct CSV → Parquet: chunks of ${count(r.direct.rowsPerChunk)} rows, each parsed and encoded as one row group on the encoder threads (no Arrow in between)`);
  }
  if (r.channels.length) lines.push(r.channels.map((c) => `  channel ${c.name}: peak ${c.peakDepth}/${c.capacity} batches, ${bytes(c.peakBytes)} of ${bytes(c.capacityBytes)}`).join('\n'));
  for (const s of sinks) {
    if (r.ok && s.files.length) lines.push(`  wrote ${s.files.length === 1 ? s.files[0] : `${s.files.length} files under ${s.path}`}`);
  }
  if (r.incremental) lines.push(renderIncremental(r.incremental));
  if (r.rejected) lines.push(...renderRejected(r.rejected));
  if (r.error) lines.push(`  error: ${r.error.message}`);
  return lines.join('\n');
}

/** Rows taken out by `onError`, per place, action and reason (the reasons as given, most first). */
export function renderRejected(rejected: NonNullable<RunReport['rejected']>): string[] {
  const lines = [`  rejected ${count(rejected.rows)} row(s) (onError)${rejected.deadLetter ? `; dead-letter output ${rejected.deadLetter.path} (${count(rejected.deadLetter.rows)} rows)` : ''}`];
  const sorted = [...rejected.counts].sort((a, b) => b.rows - a.rows);
  for (const c of sorted.slice(0, 10)) lines.push(`    ${c.place} (${c.action}): ${count(c.rows)} × ${c.reason.split('\n')[0]}`);
  if (sorted.length > 10) lines.push(`    … and ${sorted.length - 10} more place/reason pair(s) in the JSON report`);
  return lines;
}

/** What an incremental run read and left, in one or two lines. */
function renderIncremental(i: NonNullable<RunReport['incremental']>): string {
  const lines = [
    i.full
      ? `  incremental, --full: read all ${i.read.length} input file(s); the outputs and their state were replaced${i.part ? ` (part ${i.part})` : ''}`
      : i.read.length === 0
        ? `  incremental: nothing new (${i.skipped} input file(s) committed by earlier runs); nothing was read or written`
        : `  incremental: read ${i.read.length} new or changed input file(s) into part ${i.part ?? '(not committed)'}; ${i.skipped} committed by earlier runs not read again`,
  ];
  for (const f of i.changed) lines.push(`  warning: ${f} changed since an earlier run committed it: read again (its earlier rows stay in the earlier part)`);
  if (i.gone.length) lines.push(`  ${i.gone.length} input file(s) committed earlier are gone; their rows stay in the earlier parts`);
  return lines.join('\n');
}
