import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failedBeforeRun, renderOpenMetrics, writeMetricsFile } from '../../../src/cli/metrics-file';
import type { RunReport } from '../../../src/runtime/types';
import { parseOpenMetrics } from '../../helpers/openmetrics';

const report: RunReport = {
  pipeline: 'night "ly"\\job\n2',
  ok: true,
  startedAt: '2026-11-24T00:00:00.000Z',
  durationMs: 2500,
  startupMs: 500,
  source: { rows: 100, batches: 2, bytes: 4096, files: 3, busyMs: 10, blockedMs: 5 },
  stages: [
    { name: 'hash', mode: 'thread', copies: 2, rowsIn: 100, rowsOut: 90, batchesIn: 2, batchesOut: 3, bytesIn: 4096, bytesOut: 2048, busyMs: 1500, idleMs: 300, blockedMs: 200, peakInFlight: 2, waits: {}, transport: { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 } },
    { name: 'agg', mode: 'process', copies: 1, rowsIn: 90, rowsOut: 7, batchesIn: 3, batchesOut: 1, bytesIn: 2048, bytesOut: 100, busyMs: 250, idleMs: 0, blockedMs: 0, peakInFlight: 2, waits: {}, transport: { bytesCopied: 0, bytesPacked: 0, bytesSerialized: 0 } },
  ],
  sink: { rows: 7, batches: 1, bytes: 100, path: '/out', files: ['/out'], busyMs: 3 },
  channels: [],
  peakRssBytes: 100 << 20,
};

describe('OpenMetrics file', () => {
  it('is valid OpenMetrics with the run and per-stage numbers, labelled by pipeline and stage', () => {
    const families = parseOpenMetrics(renderOpenMetrics(report));
    const value = (name: string, stage?: string) => families.get(name)!.samples.find((s) => s.labels.stage === stage)!.value;
    expect([...families.keys()].every((n) => n.startsWith('sluice_'))).toBe(true);
    expect(value('sluice_run_success')).toBe(1);
    expect(value('sluice_run_duration_seconds')).toBe(2.5);
    expect(value('sluice_run_start_timestamp_seconds')).toBe(Date.parse('2026-11-24T00:00:00.000Z') / 1000);
    expect(value('sluice_source_rows')).toBe(100);
    expect(value('sluice_sink_rows')).toBe(7);
    expect(value('sluice_stage_busy_seconds', 'hash')).toBe(1.5);
    expect(value('sluice_stage_batches_out', 'hash')).toBe(3);
    expect(value('sluice_stage_rows_in', 'agg')).toBe(90);
    expect(families.get('sluice_stage_busy_seconds')!.unit).toBe('seconds');
    expect(families.get('sluice_stage_busy_seconds')!.help).toMatch(/busy|running/);
    // a pipeline name with a quote, a backslash and a newline survives escaping
    expect(families.get('sluice_run_success')!.samples[0].labels.pipeline).toBe(report.pipeline);
  });

  it('gives the Parquet encoder\'s busy and slot-wait seconds when the sink had one', () => {
    expect(parseOpenMetrics(renderOpenMetrics(report)).has('sluice_parquet_encoder_busy_seconds')).toBe(false);
    const withEncoder = { ...report, sink: { ...report.sink, encoder: { threadsStarted: 1, groupsOnMainThread: 0, busyMs: 1250, slotWaitMs: 40 } } };
    const families = parseOpenMetrics(renderOpenMetrics(withEncoder));
    expect(families.get('sluice_parquet_encoder_busy_seconds')!.samples[0].value).toBe(1.25);
    expect(families.get('sluice_parquet_encoder_slot_wait_seconds')!.samples[0].value).toBe(0.04);
  });

  it('says a run that failed before it started failed, with no stage samples', () => {
    const families = parseOpenMetrics(renderOpenMetrics(failedBeforeRun('p')));
    expect(families.get('sluice_run_success')!.samples[0].value).toBe(0);
    expect(families.has('sluice_stage_busy_seconds')).toBe(false);
  });

  it('is written whole: no temporary file is left beside it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-prom-'));
    const file = path.join(dir, 'job.prom');
    writeMetricsFile(file, report);
    expect(readdirSync(dir)).toEqual(['job.prom']);
    expect(readFileSync(file, 'utf8')).toBe(renderOpenMetrics(report));
  });

  it('the reader used here refuses what is not OpenMetrics', () => {
    const ok = '# TYPE a_seconds gauge\n# UNIT a_seconds seconds\na_seconds{x="1"} 2\n# EOF\n';
    expect(() => parseOpenMetrics(ok)).not.toThrow();
    expect(() => parseOpenMetrics(ok.replace('# EOF\n', ''))).toThrow(/EOF/);
    expect(() => parseOpenMetrics(ok.replace('# UNIT a_seconds seconds', '# UNIT a_seconds bytes'))).toThrow(/unit/);
    expect(() => parseOpenMetrics(ok.replace('{x="1"}', '{x=1}'))).toThrow(/labels/);
    expect(() => parseOpenMetrics(ok.replace(' 2\n', ' two\n'))).toThrow(/value/);
    expect(() => parseOpenMetrics(ok + 'b 1\n')).toThrow();
    expect(() => parseOpenMetrics(ok.replace('a_seconds{', 'b{'))).toThrow(/outside/);
  });
});
