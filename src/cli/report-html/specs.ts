/**
 * The report page's charts as Vega-Lite specs (plain data, so they are unit-tested without a
 * browser): each stage copy's timeline with its batches, channel depth, rows/s and memory.
 * Times are in seconds from the run's start.
 */
import type { RunReport } from '../../runtime/types';

export type Spec = Record<string, unknown>;

const WIDTH = 700;
const STATE_COLOURS = { domain: ['busy', 'idle', 'blocked', 'done'], range: ['#2f9e44', '#ced4da', '#f08c00', '#f1f3f5'] };
const sec = (ms: number) => Math.round(ms) / 1000;

/** Every chart's time axis: the running part of the run (start-up, when nothing flows, is left out). */
function timeAxis(r: RunReport, field: string): Spec {
  const domain = [sec(r.startupMs), Math.max(sec(r.durationMs), sec(r.startupMs) + 0.001)];
  return { field, type: 'quantitative', title: `seconds since start (start-up ${sec(r.startupMs)} s not shown)`, scale: { domain, nice: false } };
}

/** A lane's label: the stage, and the copy when there are several. */
const laneName = (stage: string, copies: number, lane: number) => (copies > 1 ? `${stage} #${lane + 1}` : stage);

/** Every copy's busy / idle / blocked intervals as bars, each batch as an outline over them. */
export function timelineSpec(r: RunReport): Spec | undefined {
  const stages = r.timeline?.stages ?? [];
  const intervals = stages.flatMap((s) => s.lanes.flatMap((lane, i) => lane.map(([start, end, state]) => ({ lane: laneName(s.name, s.copies, i), start: sec(start), end: sec(end), state }))));
  if (!intervals.length) return undefined;
  const batches = stages.flatMap((s) =>
    s.batches.filter(([, lane]) => lane >= 0).map(([seq, lane, start, end, rows]) => ({ lane: laneName(s.name, s.copies, lane), start: sec(start), end: sec(end), batch: seq < 0 ? 'flush' : `#${seq}`, rows })),
  );
  const order = stages.flatMap((s) => s.lanes.map((_, i) => laneName(s.name, s.copies, i)));
  const y = { field: 'lane', type: 'nominal', sort: order, title: null };
  const x = timeAxis(r, 'start');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'What each copy did',
    width: WIDTH,
    height: { step: 22 },
    layer: [
      {
        name: 'timeline',
        data: { values: intervals },
        mark: { type: 'bar', tooltip: true, clip: true },
        encoding: { y, x, x2: { field: 'end' }, color: { field: 'state', type: 'nominal', scale: STATE_COLOURS, title: 'copy state' } },
      },
      {
        name: 'batches',
        data: { values: batches },
        mark: { type: 'bar', filled: false, stroke: '#1b4332', strokeWidth: 0.6, tooltip: true, clip: true },
        encoding: { y, x, x2: { field: 'end' }, tooltip: [{ field: 'lane' }, { field: 'batch' }, { field: 'rows', format: ',' }, { field: 'start' }, { field: 'end' }] },
      },
    ],
  };
}

/** Items waiting in each channel, over time. */
export function depthSpec(r: RunReport): Spec | undefined {
  const s = r.timeline?.samples;
  if (!s || !s.channels.length || !s.samples.length) return undefined;
  const values = s.samples.flatMap((p) => s.channels.map((channel, k) => ({ t: sec(p.t), channel, depth: p.depths[k] })));
  return line(r, 'depth', 'Channel depth (items)', values, 'channel', 'depth', 'items', 'step-after');
}

/** Rows per second out of the source, each stage and the sink, between two samples. */
export function rateSpec(r: RunReport): Spec | undefined {
  const s = r.timeline?.samples;
  if (!s || s.samples.length < 2) return undefined;
  const names = ['source', ...r.stages.map((st) => st.name), 'sink'];
  const rows = (p: (typeof s.samples)[number]) => [p.sourceRows, ...p.stageRows, p.sinkRows];
  const values = s.samples.slice(1).flatMap((p, i) => {
    const prev = s.samples[i];
    const dt = (p.t - prev.t) / 1000;
    if (dt <= 0) return [];
    const now = rows(p);
    const before = rows(prev);
    return names.map((name, k) => ({ t: sec(p.t), part: name, rate: Math.round((now[k] - before[k]) / dt) }));
  });
  return line(r, 'rate', 'Rows per second', values, 'part', 'rate', 'rows/s', 'step-before');
}

/** Resident memory of the main process (its threads included) over time. */
export function memorySpec(r: RunReport): Spec | undefined {
  const s = r.timeline?.samples;
  if (!s || !s.samples.length) return undefined;
  const values = s.samples.map((p) => ({ t: sec(p.t), part: 'main process RSS', mib: Math.round((p.rssBytes / 1048576) * 10) / 10 }));
  return line(r, 'memory', 'Memory (MiB, main process; child processes report only their peak)', values, 'part', 'mib', 'MiB', 'linear');
}

function line(r: RunReport, name: string, title: string, values: object[], series: string, field: string, unit: string, interpolate: string): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    name,
    title,
    width: WIDTH,
    height: 160,
    data: { values },
    mark: { type: 'line', interpolate, point: values.length < 60, tooltip: true, clip: true },
    encoding: {
      x: timeAxis(r, 't'),
      y: { field, type: 'quantitative', title: unit },
      color: { field: series, type: 'nominal', title: null },
    },
  };
}
