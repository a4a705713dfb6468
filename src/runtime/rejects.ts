/**
 * Rejected rows of one run: what `onError: 'skip' | 'dead-letter'` (source or stage) took out of
 * the stream. Counted per place and reason (the report), held against the budget (`maxErrors`),
 * and, for `dead-letter`, written to the dead-letter sink: one more sink of the run, committed
 * together with the others (io/sinks/commit-set.ts), so its rows are published with the output
 * they were taken from, or not at all.
 *
 * One schema for every rejected row, whatever its origin, so every sink format can hold them
 * (CSV and NDJSON included) and the output of two runs reads alike:
 * `origin, stage, file, line, row, column, batch, reason, raw, values, stack`.
 * `values` is the row's values as a JSON object (text), not a struct: the columns of a row
 * differ between the source and each stage (a struct column would need one type for all of
 * them), a CSV sink has no structs, and DuckDB reads the text with its JSON functions.
 */
import { Int64, Table, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { rowJson } from '../batch/row-json';
import type { StageReject } from '../protocol/rejects';
import { SluiceError, SourceError, StageError } from '../errors';

/** One rejected row. */
export interface Reject {
  /** Where it was taken out: the source, or a stage (its name in `stage`). */
  origin: 'source' | 'stage';
  stage?: string;
  /** The input file the row came from. */
  file?: string;
  /** Source: the physical line (1-based) the row starts on. */
  line?: number;
  /** The row's number among the file's rows (1-based, header not counted), when known. */
  row?: number;
  /** The column whose value was refused, when one was. */
  column?: string;
  /** The batch (sequence number) the row was in. */
  batch?: number;
  reason: string;
  /** Source: the row's text as read. */
  raw?: string;
  /** The row's values: those that parsed (source), or all of them (stage); text: already JSON (batch/row-json.ts). */
  values?: Record<string, unknown> | string;
  /** A stage's throw: its stack. */
  stack?: string;
}

export type RejectAction = 'skip' | 'dead-letter';

/** Rows rejected at one place for one reason (the report). */
export interface RejectCount {
  /** `source`, or the stage's name. */
  place: string;
  action: RejectAction;
  reason: string;
  rows: number;
}

/**
 * A unit's rejects per place, action and reason, as its manifest line keeps them (io/units):
 * `at` is where the first of them was (batch, row; null: unknown), numbered as an uninterrupted
 * run numbers them, so a resumed run reports the same counts in the same order.
 */
export interface UnitRejectCount extends RejectCount {
  at: [number | null, number | null];
}

/** Where the dead-lettered rows go: a sink's `write` (io/sinks). */
export interface RejectSink {
  write(batch: RecordBatch, meta?: { seq: number }): Promise<void>;
}

/**
 * The dead-letter output's order: the input's (batch, then the source's rows before the stages',
 * then row or line), whatever order parallel copies and the source thread found them in, so two
 * runs of one input write the same bytes (within what is written at once: a unit of a resumable
 * run, or WRITE_EVERY rows).
 */
function inInputOrder(a: Reject, b: Reject): number {
  const by = (x: number | undefined, y: number | undefined) => (x ?? Infinity) - (y ?? Infinity) || 0;
  return (
    by(a.batch, b.batch) ||
    (a.origin === b.origin ? 0 : a.origin === 'source' ? -1 : 1) ||
    by(a.row ?? a.line, b.row ?? b.line) ||
    (a.stage ?? '').localeCompare(b.stage ?? '') ||
    by(a.line, b.line)
  );
}

/** Reasons kept apart per place; past this many, the rest count as one ("other reasons"). */
const MAX_REASONS = 20;
/** Rejected rows held before they are written out as one batch. */
const WRITE_EVERY = 1024;
/** Rejected rows a budget error names. */
const FIRST_NAMED = 3;

export class Rejects {
  /** Rows rejected, all places together. */
  total = 0;
  /** Rows rejected by the source (not among the rows it passed on, so not in its meter). */
  fromSource = 0;
  /** Rows written to the dead-letter sink (what it must have written at the commit). */
  written = 0;
  private readonly counts = new Map<string, RejectCount>();
  /** Per count, where its first row was (batch, row): the report's order, the same in every mode. */
  private readonly firstAt = new Map<RejectCount, readonly [number, number]>();
  private readonly first: Reject[] = [];
  private pending: Reject[] = [];
  /**
   * A fresh resumable run whose stages after the cut run live (runtime/unit-cut.ts): their
   * dead-lettered rows, held apart from every unit's until the job commit has written the staged
   * units' (`redirect`), then written after them, as the commit's replay of the tail writes its
   * own. They belong to no unit: a resumed run runs the tail again over every unit and rejects
   * them again, so a unit's manifest line must not carry them.
   */
  private tailHeld: Reject[] = [];
  private writing: Promise<void> = Promise.resolve();
  private batches = 0;
  private failure: unknown;
  /**
   * A resumable run (io/units): dead-lettered rows held per input file until their unit is
   * staged (`take`), and rows rejected per file (skipped too), kept in the unit's manifest line.
   */
  private byFile:
    | {
        held: Map<string | undefined, Reject[]>;
        rejected: Map<string | undefined, number>;
        counts: Map<string | undefined, Map<string, UnitRejectCount>>;
        /** Per unit, its first rejected rows (FIRST_NAMED at most): a resumed run's budget error names them. */
        first: Map<string | undefined, Reject[]>;
        seqOffset: number;
        keyOf?: (file: string, batch: number | undefined) => string;
      }
    | undefined;

  constructor(
    /** `maxErrors`: a count, or a percentage of the rows read (`'0.1%'`); absent: no limit. */
    private readonly maxErrors: number | string | undefined,
    private sink?: RejectSink,
    /**
     * A resumable run: hold the dead-lettered rows per input file (`take`) instead of writing
     * them to `sink`. `carried`: rows the units an earlier attempt staged rejected (they count
     * against a `maxErrors` count); `seqOffset`: the batches the source read of those units (a
     * rejected row's batch number is the uninterrupted run's).
     */
    units?: { carried: number; seqOffset: number; counts?: readonly UnitRejectCount[]; first?: readonly Reject[]; keyOf?: (file: string, batch: number | undefined) => string },
  ) {
    if (units) {
      this.byFile = { held: new Map(), rejected: new Map(), counts: new Map(), first: new Map(), seqOffset: units.seqOffset, keyOf: units.keyOf };
      this.total = units.carried;
      // The earlier units' first rejects come first, as in an uninterrupted run: a budget error names them.
      this.first.push(...(units.first ?? []).slice(0, FIRST_NAMED));
      // The earlier units' counts per reason: the report covers every unit, as an uninterrupted run's does.
      for (const c of units.counts ?? []) this.count(c.place, c.action, c.reason, c.rows, [c.at[0] ?? Infinity, c.at[1] ?? Infinity]);
    }
  }

  /** A resumable run: the dead-lettered rows of unit `file` (its key: batch/unit-tag.ts) (the dead-letter schema, one batch), once every row of it is known; and the rows it rejected in all. */
  take(file: string): { batches: RecordBatch[]; rejected: number; counts: UnitRejectCount[]; first: Reject[] } {
    const held = this.byFile?.held.get(file) ?? [];
    const rejected = this.byFile?.rejected.get(file) ?? 0;
    const counts = [...(this.byFile?.counts.get(file)?.values() ?? [])];
    const first = this.byFile?.first.get(file) ?? [];
    this.byFile?.first.delete(file);
    this.byFile?.held.delete(file);
    this.byFile?.rejected.delete(file);
    this.byFile?.counts.delete(file);
    return { batches: held.length ? rejectTable(held.sort(inInputOrder)).batches : [], rejected, counts, first };
  }

  /** Rows still held for a unit (after every unit was staged: none, or they would be lost). */
  get heldRows(): number {
    return [...(this.byFile?.held.values() ?? [])].reduce((n, rows) => n + rows.length, 0);
  }

  /**
   * A resumable run's job commit: the staged units' rejects were written to `sink` (`replayed`
   * batches); the rows rejected from now on (stages run again at the commit) go straight to it.
   * `written` counts from here on.
   */
  redirect(sink: RejectSink | undefined, replayed: number): void {
    this.byFile = undefined;
    this.sink = sink;
    this.batches = replayed;
    this.written = 0;
    // A live tail's rows come after the staged units' (tailHeld).
    this.pending.push(...this.tailHeld);
    this.tailHeld = [];
  }

  /** Where the stages of a live tail (a fresh resumable run: runtime/unit-cut.ts) reject rows: counted with the others, held apart from the units' (tailHeld). */
  liveTail(): Pick<Rejects, 'add' | 'room'> {
    return { add: (action, rows) => this.add(action, rows, true), room: () => this.room() };
  }

  /**
   * How many more rows may be rejected before a `maxErrors` count is passed (undefined: no
   * count; a percentage is known only at the end). Bisection stops looking once it has found
   * more (runtime/bisect.ts): the run fails anyway, and a stage that throws on every row would
   * otherwise be run about twice per row of the batch first.
   */
  room(): number | undefined {
    return typeof this.maxErrors === 'number' ? Math.max(0, this.maxErrors - this.total) : undefined;
  }

  /**
   * Take `rows` out of the stream. Throws (the run fails, nothing committed) once the count is
   * past a `maxErrors` count; a percentage is checked at the end (`checkShare`), once the rows
   * read are known.
   */
  add(action: RejectAction, rows: readonly Reject[], liveTail = false): void {
    for (const r of rows) {
      this.total++;
      if (r.origin === 'source') this.fromSource++;
      if (this.first.length < FIRST_NAMED) this.first.push(r);
      const place = r.origin === 'source' ? 'source' : (r.stage ?? 'stage');
      // Batches numbered as an uninterrupted run numbers them (a resumed run's source starts at 0).
      const batch = r.batch === undefined ? undefined : r.batch + (this.byFile?.seqOffset ?? 0);
      const at = [batch ?? Infinity, r.row ?? Infinity] as const;
      const reason = this.count(place, action, r.reason, 1, at);
      if (this.byFile && liveTail) {
        if (action === 'dead-letter') this.tailHeld.push(batch === undefined ? r : { ...r, batch });
      } else if (this.byFile) {
        // Held per unit: its file, or the range of the file's row groups the row's batch was read from.
        const unit = r.file !== undefined && this.byFile.keyOf ? this.byFile.keyOf(r.file, r.batch) : r.file;
        this.byFile.rejected.set(unit, (this.byFile.rejected.get(unit) ?? 0) + 1);
        const perUnit = this.byFile.counts.get(unit) ?? this.byFile.counts.set(unit, new Map()).get(unit)!;
        const key = `${place}\0${action}\0${reason}`;
        const count = perUnit.get(key) ?? { place, action, reason, rows: 0, at: [finite(at[0]), finite(at[1])] };
        count.rows++;
        if (before(at, [count.at[0] ?? Infinity, count.at[1] ?? Infinity])) count.at = [finite(at[0]), finite(at[1])];
        perUnit.set(key, count);
        const first = this.byFile.first.get(unit) ?? this.byFile.first.set(unit, []).get(unit)!;
        // Where and why only: the manifest keeps them small.
        if (first.length < FIRST_NAMED) first.push({ origin: r.origin, stage: r.stage, file: r.file, line: r.line, row: r.row, column: r.column, batch, reason: r.reason });
        if (action === 'dead-letter') {
          const held = this.byFile.held.get(unit) ?? [];
          held.push(batch === undefined ? r : { ...r, batch });
          this.byFile.held.set(unit, held);
        }
      } else if (action === 'dead-letter') this.pending.push(r);
    }
    if (typeof this.maxErrors === 'number' && this.total > this.maxErrors) throw this.overBudget(`more than maxErrors: ${this.maxErrors}`);
    if (this.pending.length >= WRITE_EVERY) this.writeOut();
  }

  /** `rows` more at place/action/reason, the first of them at `at`; returns the reason they count under (past MAX_REASONS: "other reasons"). */
  private count(place: string, action: RejectAction, reason: string, rows: number, at: readonly [number, number]): string {
    const byPlace = [...this.counts.values()].filter((c) => c.place === place && c.action === action);
    const under = byPlace.length >= MAX_REASONS && !byPlace.some((c) => c.reason === reason) ? 'other reasons' : reason;
    const key = `${place}\0${action}\0${under}`;
    const count = this.counts.get(key) ?? { place, action, reason: under, rows: 0 };
    count.rows += rows;
    this.counts.set(key, count);
    const seen = this.firstAt.get(count);
    if (!seen || before(at, seen)) this.firstAt.set(count, at);
    return under;
  }

  /** Fails the run when the budget is exceeded: a count, or a percentage of `rowsRead`. */
  checkShare(rowsRead: number): void {
    // A count is checked as rows come (add), but rows carried in (a cluster's units, rejected on
    // several machines at once, each under the budget) are only known together at the commit.
    if (typeof this.maxErrors === 'number' && this.total > this.maxErrors) throw this.overBudget(`more than maxErrors: ${this.maxErrors}`);
    if (typeof this.maxErrors !== 'string') return;
    const percent = Number(this.maxErrors.slice(0, -1));
    if (this.total > (percent / 100) * rowsRead) throw this.overBudget(`more than maxErrors: '${this.maxErrors}' of the ${rowsRead} rows read`);
  }

  /** Write what is held, and wait for every write: before the commit. */
  async drain(): Promise<void> {
    this.writeOut(true);
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Rows rejected per place, action and reason, in the order of their first row in the input
   * (batch, then row): copies running in parallel reject in whatever order they finish, and two
   * runs of one input must report alike.
   */
  report(): RejectCount[] {
    const at = (c: RejectCount) => this.firstAt.get(c) ?? [Infinity, Infinity];
    return [...this.counts.values()]
      .sort((a, b) => at(a)[0] - at(b)[0] || at(a)[1] - at(b)[1] || (a.place < b.place ? -1 : a.place > b.place ? 1 : 0))
      .map((c) => ({ ...c }));
  }

  private writeOut(evenEmpty = false): void {
    // Held per file (a resumable run): written when their unit is staged (take), not here.
    if (!this.sink || this.byFile) {
      this.pending = [];
      return;
    }
    // One empty batch when nothing was rejected: the output is then a valid file with the columns.
    if (!this.pending.length && !(evenEmpty && this.batches === 0)) return;
    const rows = this.pending.sort(inInputOrder);
    this.pending = [];
    const table = rejectTable(rows);
    const seq = this.batches++;
    const sink = this.sink;
    this.writing = this.writing.then(async () => {
      if (this.failure !== undefined) return;
      try {
        for (const batch of table.batches) await sink.write(batch, { seq });
        this.written += rows.length;
      } catch (err) {
        this.failure = err;
      }
    });
  }

  private overBudget(limit: string): SluiceError {
    const first = this.first.map(describe).join('; ');
    const message = `${this.total} rows rejected (skipped or dead-lettered), ${limit}; nothing was committed. The first: ${first}. Fix the input or the stage, or raise maxErrors`;
    const r = this.first[0];
    if (r?.origin === 'stage') return new StageError({ stage: r.stage ?? 'stage', seq: r.batch, sourceFile: r.file }, 'process', new Error(message));
    return new SourceError(message, { file: r?.file, line: r?.line, column: r?.column });
  }
}

/** Whether place `a` (batch, row) comes before `b`. */
function before(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** A number for JSON (the manifest): unknown (Infinity) is null. */
function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/**
 * A row a stage rejected itself (`ctx.reject`), as one of the run's rejects. `firstRow`: the
 * file row number of the task input's first row, when its rows are the file's; `shift`: where
 * the part the stage ran on starts in that input (a part of a bisected batch).
 */
export function stageReject(r: StageReject, where: { seq: number; sourceFile?: string; firstRow?: number; shift?: number }): Reject {
  const row = r.at !== undefined && where.firstRow !== undefined ? where.firstRow + (where.shift ?? 0) + r.at : undefined;
  return {
    origin: 'stage',
    stage: r.stage,
    ...(where.sourceFile !== undefined && { file: where.sourceFile }),
    ...(row !== undefined && { row }),
    batch: where.seq,
    reason: r.reason,
    values: r.values,
  };
}

/**
 * A stage rejected rows (`ctx.reject`) with `onError: 'fail'`: the run fails here, naming the
 * stage, the batch, the first rows and the reason, and saying where such rows can go instead.
 */
export function rejectedOnFail(rejects: readonly Reject[], where: { seq: number; sourceFile?: string }): StageError {
  const r = rejects[0];
  const rows = rejects.slice(0, FIRST_NAMED).map((x) => x.row);
  const which = rows.every((n) => n !== undefined) ? ` (${rows.length === 1 ? 'row' : 'rows'} ${rows.join(', ')}${rejects.length > FIRST_NAMED ? ', …' : ''} of ${r.file ?? 'its file'})` : '';
  const message = `ctx.reject took ${rejects.length} ${rejects.length === 1 ? 'row' : 'rows'} of the batch out${which}: "${r.reason}"; the stage's onError is 'fail' (the default), so the run stops here. Set onError: 'dead-letter' (with a deadLetter output) to keep such rows, or 'skip' to drop and count them`;
  return new StageError({ stage: r.stage ?? 'stage', seq: where.seq, sourceFile: where.sourceFile }, 'process', new Error(message));
}

function describe(r: Reject): string {
  const at = [r.origin === 'stage' ? `stage "${r.stage}"` : 'source', r.file, r.line !== undefined ? `line ${r.line}` : undefined, r.row !== undefined ? `row ${r.row}` : undefined, r.column !== undefined ? `column "${r.column}"` : undefined];
  return `${at.filter((s) => s !== undefined).join(', ')}: ${r.reason}`;
}

/**
 * The rejected rows as one table of the dead-letter schema (see the top of this file), its
 * types fixed (not inferred from the values: a column of nulls alone would have none).
 */
export function rejectTable(rows: readonly Reject[]): Table {
  const text = (f: (r: Reject) => string | undefined) => vectorFromArray(rows.map((r) => f(r) ?? null), new Utf8());
  const int = (f: (r: Reject) => number | undefined) => vectorFromArray(rows.map((r) => { const n = f(r); return n === undefined ? null : BigInt(n); }), new Int64());
  return new Table({
    origin: text((r) => r.origin),
    stage: text((r) => r.stage),
    file: text((r) => r.file),
    line: int((r) => r.line),
    row: int((r) => r.row),
    column: text((r) => r.column),
    batch: int((r) => r.batch),
    reason: text((r) => r.reason),
    raw: text((r) => r.raw),
    values: text((r) => (typeof r.values === 'string' ? r.values : r.values ? rowJson(r.values) : undefined)),
    stack: text((r) => r.stack),
  });
}
