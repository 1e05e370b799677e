/**
 * The pull client's output and state: NDJSON files plus one state file, kept so that a kill at any
 * instant followed by a restart leaves every event in the output exactly once.
 *
 * Files: `<out>` is the active file; rotated files are `<out>.1`, `<out>.2`, … (1 is the oldest), and a
 * rotated file is final: never written, renamed or truncated again. `<state>` holds
 * `{cursor, rotations, offset, rotating}`.
 *
 * The invariant, true whenever the process can be killed:
 *   the state's `cursor` is the NextCursor of the last page whose events all lie in
 *   `<out>.1 … <out>.<rotations>` plus the first `offset` bytes of `<out>`; and no event of a later
 *   page lies in those bytes.
 * Bytes of `<out>` beyond `offset` are a page that was appended but never committed.
 *
 * Steps that keep it:
 * - A page: append its events to `<out>`, fsync, then write the state {cursor: NextCursor,
 *   offset: new size} atomically (temp file, fsync, rename, fsync the directory). Until the rename
 *   lands, the old state still describes the file, and the appended tail is beyond its offset.
 * - Start: cut `<out>` back to `offset`, which undoes an append whose state write never happened;
 *   then poll from `cursor`, which returns that page again.
 * - Rotation, only between pages (size == offset): write the state with `rotating: true`, link
 *   `<out>` to `<out>.<rotations+1>` (link refuses to overwrite an existing file), unlink `<out>`,
 *   then write {rotations + 1, offset 0, rotating: false}. A restart that finds `rotating: true`
 *   finishes whichever of these steps is missing, so the rotated file holds exactly the committed
 *   bytes and the new `<out>` starts empty.
 * - A missing state with a non-empty `<out>` is refused rather than guessed at: starting over would
 *   duplicate that file's events, and cutting it back would lose them.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface PullState {
  version: 1;
  /** The feed URL the cursor belongs to (informational: a cursor only works on its installation). */
  url: string;
  /** NextCursor of the last committed page; null before the first page. */
  cursor: string | null;
  /** The first poll's `since`, kept so that a restart before the first page asks the same. */
  since: string | null;
  /** The `eventType` filter the cursor advanced under. */
  eventType: string | null;
  /** The wire format of the output's lines (absent in state files from before formats: json). */
  format?: string;
  /** Rotated files so far: `<out>.1` … `<out>.<rotations>`. */
  rotations: number;
  /** Committed bytes of `<out>`. */
  offset: number;
  /** A rotation was decided and may be half done. */
  rotating: boolean;
  updatedAt: string;
}

export class PullStateError extends Error {
  override name = 'PullStateError';
}

export function rotatedPath(out: string, n: number): string {
  return `${out}.${n}`;
}

/** Every output file, oldest first: the rotated ones, then the active one if it exists. */
export function outputFiles(out: string): string[] {
  const dir = path.dirname(out);
  const base = path.basename(out);
  const numbered = fs
    .readdirSync(dir)
    .map((name) => (name.startsWith(`${base}.`) ? name.slice(base.length + 1) : ''))
    .filter((suffix) => /^[1-9][0-9]*$/.test(suffix))
    .map(Number)
    .sort((a, b) => a - b)
    .map((n) => rotatedPath(out, n));
  return fs.existsSync(out) ? [...numbered, out] : numbered;
}

function highestRotation(out: string): number {
  let max = 0;
  for (const file of outputFiles(out)) {
    const m = /\.([0-9]+)$/.exec(file);
    if (file !== out && m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function sizeOf(file: string): number | null {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function readState(statePath: string): PullState | null {
  let text: string;
  try {
    text = fs.readFileSync(statePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: Partial<PullState>;
  try {
    parsed = JSON.parse(text) as Partial<PullState>;
  } catch {
    throw new PullStateError(
      `${statePath} is not valid JSON; it is only ever replaced whole, so it was edited`,
    );
  }
  if (
    parsed.version !== 1 ||
    !(parsed.cursor === null || typeof parsed.cursor === 'string') ||
    !Number.isSafeInteger(parsed.offset) ||
    (parsed.offset ?? -1) < 0 ||
    !Number.isSafeInteger(parsed.rotations) ||
    typeof parsed.rotating !== 'boolean'
  ) {
    throw new PullStateError(`${statePath} is not a siem pull state file (version 1)`);
  }
  return parsed as PullState;
}

/** Replaces the state file atomically: a reader (or a restart) sees the old state or the new, never a mix. */
export function writeState(statePath: string, state: PullState): void {
  const tmp = `${statePath}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, statePath);
  fsyncDir(path.dirname(statePath));
}

export interface OutputOptions {
  out: string;
  statePath: string;
  url: string;
  since: string | null;
  eventType: string | null;
  format: string;
  maxBytes: number;
}

export interface Committed {
  bytes: number;
  rotated: boolean;
  /** The page's records as written, one a line (without the newline). */
  records: string[];
}

/**
 * The output and its state, recovered on open. `commitPage` is the only way events reach the output.
 */
export class PullOutput {
  private state: PullState;
  private fd: number | null = null;

  private constructor(
    private readonly options: OutputOptions,
    state: PullState,
    readonly recovered: { truncatedBytes: number; finishedRotation: boolean; fresh: boolean },
  ) {
    this.state = state;
  }

  get cursor(): string | null {
    return this.state.cursor;
  }
  get since(): string | null {
    return this.state.since;
  }
  get offset(): number {
    return this.state.offset;
  }
  get rotations(): number {
    return this.state.rotations;
  }

  static open(options: OutputOptions): PullOutput {
    const { out, statePath } = options;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    let state = readState(statePath);
    let fresh = false;
    if (!state) {
      const size = sizeOf(out);
      if (size !== null && size > 0) {
        throw new PullStateError(
          `${out} already holds ${size} bytes but there is no state file ${statePath}: starting over ` +
            'would write its events again. Pass the --state file that belongs to it, or move the output aside.',
        );
      }
      fresh = true;
      state = {
        version: 1,
        url: options.url,
        cursor: null,
        since: options.since,
        eventType: options.eventType,
        format: options.format,
        // Never reuse a rotated file's number, even when an old run's files are still around.
        rotations: highestRotation(out),
        offset: 0,
        rotating: false,
        updatedAt: new Date().toISOString(),
      };
      // Written before anything is appended, so that a kill after the first append finds a state
      // (offset 0) that says the bytes are uncommitted, instead of a state-less non-empty output.
      writeState(statePath, state);
    } else if ((state.eventType ?? null) !== options.eventType) {
      throw new PullStateError(
        `${statePath} was written with --event-type ${state.eventType ?? '(none)'}; this run asks for ` +
          `${options.eventType ?? '(none)'}. The cursor has advanced past the events that filter skipped, ` +
          'so changing it would silently miss them: use a new --state and --out for a different filter.',
      );
    } else if ((state.format ?? 'json') !== options.format) {
      throw new PullStateError(
        `${statePath} was written with --format ${state.format ?? 'json'}; this run asks for ${options.format}. ` +
          'One output holds one format (a parser and itportal verify read it line by line): use a new --state and --out.',
      );
    }
    const output = new PullOutput(options, state, { truncatedBytes: 0, finishedRotation: false, fresh });
    if (state.rotating) {
      output.finishRotation();
      output.recovered.finishedRotation = true;
    }
    output.recovered.truncatedBytes = output.cutBack();
    return output;
  }

  /** Cuts `<out>` back to the committed offset; returns how many uncommitted bytes were dropped. */
  private cutBack(): number {
    const { out } = this.options;
    const size = sizeOf(out) ?? 0;
    if (size < this.state.offset) {
      throw new PullStateError(
        `${out} holds ${size} bytes but ${this.options.statePath} records ${this.state.offset} committed bytes: ` +
          'the file was truncated, replaced or removed outside siem pull (rotate with --max-bytes, not logrotate). ' +
          'Events may be missing from it; to start over from a time, move the output and state aside and use --since.',
      );
    }
    if (size > this.state.offset) {
      fs.truncateSync(out, this.state.offset);
      const fd = fs.openSync(out, 'r+');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    return size - this.state.offset;
  }

  private openOut(): number {
    if (this.fd === null) {
      const existed = fs.existsSync(this.options.out);
      this.fd = fs.openSync(this.options.out, 'a', 0o640);
      if (!existed) fsyncDir(path.dirname(this.options.out));
    }
    return this.fd;
  }

  private closeOut(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  private save(next: Partial<PullState>): void {
    const state = { ...this.state, ...next, updatedAt: new Date().toISOString() };
    writeState(this.options.statePath, state);
    this.state = state;
  }

  /** Appends a page's events and commits its cursor; rotates afterwards when the file is full. */
  commitPage(events: unknown[], nextCursor: string): Committed {
    let bytes = 0;
    // One record a line: a JSON format's object as JSON, a text format's record as it is.
    const records = events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    if (events.length > 0) {
      const buf = Buffer.from(records.map((r) => `${r}\n`).join(''), 'utf8');
      const fd = this.openOut();
      fs.writeSync(fd, buf);
      fs.fsyncSync(fd);
      bytes = buf.length;
    }
    if (bytes > 0 || nextCursor !== this.state.cursor) {
      this.save({ cursor: nextCursor, offset: this.state.offset + bytes });
    }
    if (this.state.offset >= this.options.maxBytes) {
      this.closeOut();
      this.save({ rotating: true });
      this.finishRotation();
      return { bytes, rotated: true, records };
    }
    return { bytes, rotated: false, records };
  }

  /** Completes a rotation recorded as `rotating` (see the invariant at the top). */
  private finishRotation(): void {
    const { out } = this.options;
    const target = rotatedPath(out, this.state.rotations + 1);
    const outStat = fs.statSync(out, { throwIfNoEntry: false });
    const targetStat = fs.statSync(target, { throwIfNoEntry: false });
    if (outStat && !targetStat) {
      if (outStat.size > this.state.offset) fs.truncateSync(out, this.state.offset);
      fs.linkSync(out, target);
      fs.unlinkSync(out);
    } else if (outStat && targetStat) {
      if (outStat.ino !== targetStat.ino || outStat.dev !== targetStat.dev) {
        throw new PullStateError(
          `cannot rotate ${out}: ${target} already exists and is another file; move it aside and restart`,
        );
      }
      fs.unlinkSync(out); // killed between link and unlink
    }
    fsyncDir(path.dirname(out));
    this.save({ rotations: this.state.rotations + 1, offset: 0, rotating: false });
  }

  close(): void {
    this.closeOut();
  }
}
