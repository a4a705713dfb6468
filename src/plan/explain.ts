/** The resolved plan as text: what will run where, and how much memory it may hold. */
import { PARQUET_ENCODE_STAGE, PARQUET_ENCODER_SLOTS, PARQUET_PENDING_BUDGET_BYTES, SINK_MODE } from '../defaults';
import type { ChannelBounds, Plan, PlannedSink, PlannedStage } from './types';
import { isLine, mib } from './graph-shape';


/** The plan alone; its warnings (plan/warnings.ts) are printed by the command beside it. */
export function renderPlan(plan: Plan, files: string[]): string {
  const src = plan.source;
  const chunked = !!(plan.direct || plan.parseIn);
  const unit = chunked ? 'chunks' : 'batches';
  const items = (n: number) => `${n} ${n === 1 ? unit.slice(0, -(unit === 'batches' ? 2 : 1)) : unit}`;
  const lines = [
    `pipeline ${plan.name}${plan.configFile ? `  (${plan.configFile})` : ''}`,
    ...paramLines(plan),
    plan.direct
      ? `source   csv, ${files.length} file(s), read on the main thread and cut into chunks of ${plan.direct.rowsPerChunk.toLocaleString('en-US')} rows of CSV text (whole rows, checked; a plain conversion: no Arrow batches)`
      : plan.parseIn
        ? `source   csv, ${files.length} file(s), read on the main thread and cut into chunks of ${plan.parseIn.rowsPerChunk.toLocaleString('en-US')} rows of CSV text (whole rows, checked), parsed by stage ${plan.parseIn.stage} in its threads (fused)`
        : `source   ${src.format}, ${files.length} file(s), ${src.batchRowsFor ? `its ${src.format === 'parquet' ? 'row groups' : 'record batches'} whole as batches (up to ${src.batchRows.toLocaleString('en-US')} rows: the vectorised stage ${src.batchRowsFor} reads them)` : `${src.batchRows.toLocaleString('en-US')} rows per batch`}, ${src.thread ? `read on a thread of its own (${src.readAhead} batches ahead)` : 'read on the main thread'}`,
    ...fileLines(files),
    ...(src.incremental
      ? [
          `  incremental${src.incremental === 'per-run' ? " ('per-run': stages with flush() see only the files a run reads)" : ''}: a run reads only the files earlier runs did not commit (the state is in the first sink's directory) and adds a part file to each sink; --full reads every file and replaces the outputs`,
        ]
      : []),
    ...(src.onError && src.onError !== 'fail' ? [`  onError ${src.onError}: ${rowOut(src.onError)} a row that cannot be read (a value that does not fit its column, a ragged row, invalid UTF-8, a line over maxRowBytes); the rows around it go on`] : []),
    ...(plan.projection
      ? [`  columns: ${plan.projection.columns.join(', ')}; left out, as no stage reads them and the sink does not get them (the stages' reads): ${plan.projection.pruned.join(', ')}`]
      : []),
  ];
  const line = isLine(plan);
  // A line says each channel below what writes it; a graph says what each stage and sink reads, and through which channel.
  const reads = (p: number) => (line ? [] : [`  ← ${p < 0 ? 'source' : plan.stages[p].name} (channel: ${channelWords(p < 0 ? plan.sourceOutput : plan.stages[p].output, p < 0 ? items : undefined)})`]);
  if (line) lines.push(`  ↓ channel: ${items(plan.sourceOutput.capacity)}, ${mib(plan.sourceOutput.capacityBytes)}`);
  for (const [i, s] of plan.stages.entries()) {
    const slots = s.copies * s.slotsPerCopy;
    const parses = i === 0 && plan.parseIn?.stage === s.name;
    const [one, many] = s.encode?.input === 'csv' || parses ? ['chunk', 'chunks'] : ['batch', 'batches'];
    const inFlight = `up to ${slots} ${slots === 1 ? one : many} in flight`;
    const what = s.encode
      ? encodeLine(s.encode)
      : s.partition
        ? `(built in: the rows routed to their Hive partitions by ${s.partition.columns.join(', ')})`
        : s.fused
          ? `fused: each copy runs ${parses ? 'polars on its chunk of CSV, then ' : ''}${s.fused.map((m) => `${m.name} (${m.modulePath})`).join(', then ')} on each batch, no hand-off between them`
          : parses
            ? `fused: each copy parses its chunk with polars, then runs ${s.modulePath}`
            : s.modulePath;
    lines.push(`stage    ${s.name}: ${s.mode} × ${s.copies} (${inFlight})  ${what}`, ...reads(s.input));
    if (s.key && s.copies > 1) lines.push(`  keyed by ${s.key.join(', ')}: each row goes to copy hash(key) mod ${s.copies}, ${cutBy(plan, s.input)}; up to ${s.slotsPerCopy} part(s) in flight per copy`);
    const recovery = recoveryLine(s);
    if (recovery) lines.push(recovery);
    if (s.onError && s.onError !== 'fail') lines.push(`  onError ${s.onError}: ${rowOut(s.onError)} the rows it passes to ctx.reject and those of a batch on which process() throws (the batch is split${s.mode === 'inline' ? '' : ' in its copies'} until they are found; in a stage with flush(), the whole batch)`);
    if (line) lines.push(`  ↓ channel: ${s.output.capacity} ${s.encode ? 'encoded row groups' : 'batches'}, ${mib(s.output.capacityBytes)}`);
  }
  lines.push(
    ...plan.sinks.flatMap((sink) => [sinkLine(sink, plan.sinks.length, plan.source.incremental), ...reads(sink.from)]),
    ...rejectsLines(plan),
    ...(plan.sinks.length > 1 ? [`commit   the ${plan.sinks.length} sinks together: all published, or none (a commit journal finishes a commit cut short)`] : []),
    `order    ${plan.ordered ? 'ordered: output keeps input order (reorder buffer bounded by the channels)' : 'unordered: batches pass as they finish'}`,
    coresLine(plan.cores),
    `memory   ${plan.direct ? 'chunks' : 'batches'} in memory are bounded by ${mib(plan.memoryBoundBytes)}: ${src.thread ? 'the source read-ahead + ' : ''}every channel at its byte cap + each in-flight task's input (one per slot)${plan.parseIn ? ` + the batch each task of ${plan.parseIn.stage} parsed` : ''}${memoryExtra(plan)}`,
  );
  return lines.join('\n');
}

/** Where a keyed stage's input is cut by key (plan/key-split.ts). */
function cutBy(plan: Plan, input: number): string {
  if (input < 0) return plan.source.splitOut ? 'cut in the source thread' : 'cut on the main thread';
  const producer = plan.stages[input];
  if (!producer.splitOut) return 'cut on the main thread';
  return `cut in ${producer.name}'s ${producer.mode === 'process' ? 'child processes' : 'threads'} before the hand-off`;
}

/** What `retries` and `timeout` do for this stage (supervisor/attempts.ts), in its mode. */
function recoveryLine(s: Plan['stages'][number]): string | undefined {
  const retries = s.retries ?? 0;
  if (!retries && s.timeoutMs === undefined) return undefined;
  const timeout = s.timeoutMs !== undefined ? `timeout ${s.timeoutMs} ms per batch` : undefined;
  if (s.mode === 'inline') {
    return `  ${[timeout, retries ? `retries ${retries} do not apply (inline: the stage runs on the main thread, there is no copy to replace)` : undefined].filter(Boolean).join('; ')}${
      timeout ? ': a promise that never settles fails the run at the timeout; a busy loop cannot be interrupted on the main thread, so the death watch kills the run 3 s past it, naming the stage and batch' : ''
    }`;
  }
  const copy = s.mode === 'thread' ? 'thread' : 'child process';
  return `  ${[timeout, `retries ${retries}`].filter(Boolean).join(', ')}: a ${copy} that dies${timeout ? ' or times out' : ''} on a batch is ${timeout ? 'killed and ' : ''}replaced (same ctx.copy, setup again) and its batches sent again, ${retries + 1} attempt(s) per batch; a stage with flush is not replayed (its copy's death fails the run)`;
}

/** What `onError` does with a row, as the source and stage lines say it. */
function rowOut(onError: 'skip' | 'dead-letter'): string {
  return onError === 'skip' ? 'skips (counts and drops)' : 'sends to the dead-letter output';
}

/** Where rejected rows go and the budget: the `deadLetter` output (a sink of the joint commit) and `maxErrors`. */
function rejectsLines(plan: Plan): string[] {
  const rejecting = (plan.source.onError ?? 'fail') !== 'fail' || plan.stages.some((s) => (s.onError ?? 'fail') !== 'fail');
  if (!rejecting && !plan.deadLetter) return [];
  const budget = plan.maxErrors === undefined ? 'no budget: every bad row is taken out' : `maxErrors ${plan.maxErrors}: past it the run fails, committing nothing`;
  const out = plan.deadLetter ? `dead-letter → ${plan.deadLetter.format} ${plan.deadLetter.path} (a row each: where it came from, why, its text and the values that parsed; committed with the sinks, or not at all)` : 'no deadLetter output: rows are only counted';
  return [`rejects  ${out}; ${budget}`];
}

/** `cores    2: stage code on 3 threads at once (…); started: …; polars' pool …` */
function coresLine(b: Plan['cores']): string {
  const started = [...b.threads.map((t) => `${t.owner} ${t.threads} thread${t.threads === 1 ? '' : 's'}${t.fromBytes ? ` once its output passes ${mib(t.fromBytes)}` : ''}`), ...b.children.map((c) => `${c.owner} ${c.processes} process${c.processes === 1 ? '' : 'es'}`)];
  const over = b.stageThreads > b.cores ? ` (more than the cores: they take turns)` : '';
  const pool = `${b.polars.threads} thread${b.polars.threads === 1 ? '' : 's'}`;
  const where = b.children.length ? 'in this process and in each child' : 'in this process';
  const from = b.polars.from === 'POLARS_MAX_THREADS' ? 'POLARS_MAX_THREADS, as set' : "polars' default; POLARS_MAX_THREADS sets it";
  return `cores    ${b.cores}: stage code on ${b.stageThreads} thread${b.stageThreads === 1 ? '' : 's'} at once${over}; started besides the main thread: ${started.length ? started.join(', ') : 'none'}; polars' pool ${pool} ${where} (${from})`;
}

function encodeLine(encode: NonNullable<PlannedStage['encode']>): string {
  const rows = encode.rowGroupSize.toLocaleString('en-US');
  return encode.input === 'csv'
    ? `(built in: each chunk parsed with polars and encoded as one Parquet row group, ${encode.compression})`
    : `(built in: the rows cut into row groups of ${rows}, each encoded with polars as Parquet, ${encode.compression}${encode.mainThreadBytes ? `; an output up to ${mib(encode.mainThreadBytes)} on the main thread, no thread started` : ''})`;
}

function memoryExtra(plan: Plan): string {
  const parquet = plan.sinks.filter((s) => s.config.format === 'parquet').length;
  if (parquet === 0) return '';
  if (parquet > 1) return ` + each of the ${parquet} Parquet sinks' ${PARQUET_ENCODE_STAGE}: ${PARQUET_ENCODER_SLOTS} batch slots and ${mib(PARQUET_PENDING_BUDGET_BYTES)} of rows waiting for a full row group, at most`;
  if (plan.direct) return ` + ${PARQUET_ENCODE_STAGE}'s ${PARQUET_ENCODER_SLOTS} chunk slots`;
  return ` + ${PARQUET_ENCODE_STAGE}: ${PARQUET_ENCODER_SLOTS} batch slots and ${mib(PARQUET_PENDING_BUDGET_BYTES)} of rows waiting for a full row group, at most`;
}

/** `params   day = "2026-11-30" (date, from --set)`, one line a param, in declaration order. */
export function paramLines({ params }: Pick<Plan, 'params'>): string[] {
  return Object.entries(params.values).map(
    ([name, value], i) => `${i === 0 ? 'params  ' : '        '} ${name} = ${JSON.stringify(value)} (${params.types[name]}, from ${params.from[name]})`,
  );
}

function fileLines(files: string[]): string[] {
  return [...files.slice(0, 5).map((f) => `           ${f}`), ...(files.length > 5 ? [`           … and ${files.length - 5} more`] : [])];
}

function channelWords(b: ChannelBounds, items?: (n: number) => string): string {
  return `${items ? items(b.capacity) : `${b.capacity} batches`}, ${mib(b.capacityBytes)}`;
}

function sinkLine({ config: sink, name }: PlannedSink, sinks: number, incremental: Plan['source']['incremental']): string {
  // An incremental run adds a part to the directory (runtime/incremental.ts), whatever sink.mode says (a mode is refused there).
  const mode = incremental ? 'a new part each run; --full replaces the directory' : `mode ${sink.mode ?? SINK_MODE}`;
  return `sink     ${sinks > 1 ? `${name}: ` : ''}${sink.format} → ${sink.path}${sink.partitionBy ? ` partitioned by ${sink.partitionBy.join(', ')}` : ''} (${mode}, written to a temporary sibling and renamed on success)`;
}
