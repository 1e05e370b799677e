/**
 * The offline verifier behind `itportal verify` (SPEC §8): given the feed's records as a SIEM stored
 * them (NDJSON, one event a line, in Seq order) and checkpoints signed by the portal, it proves that
 * the records are Seq 0..N−1 of one log, each exactly once and unaltered, or names the first bad Seq.
 *
 * How: every checkpoint's signature is checked with the verifier key first (they are few and small).
 * The records are then streamed once: each one's Seq must be the next one; its leaf (the record
 * without the derived Category and Controls, RFC 8785 canonical JSON) is hashed into a compact range
 * (merkle.ts), and whenever the range reaches a checkpoint's size its root must be the signed one.
 * Matching every checkpoint's root from the leaves also proves the checkpoints consistent with each
 * other. At the end a checkpoint of size exactly N must have been matched (the last record is covered
 * by a signature), and a checkpoint larger than N means records are missing from the end.
 *
 * An altered record whose JSON is still valid is found by the root of the next checkpoint: the
 * verifier names the Seq range between the last matched checkpoint and that one (the feed's pages, as
 * `siem pull` stores one checkpoint per page), the range being one Seq when checkpoints are that
 * dense; the CLI then names the record itself from FILE.digests when `siem pull` kept one
 * (cli/verify.ts). Derived fields (Category, Controls) are checked against the event type registry, since they
 * are outside the hash.
 */
import { EVENT_TYPES, controlsOf, eventTypeInfo } from '../audit/event-types.js';
import { canonicalLeaf, leafInputOfServerLine, leafOfServerLine } from './log-leaf.js';
import { CompactRange, EMPTY_ROOT, leafHash, leafHashOfInput } from './merkle.js';
import { openNote, parseCheckpointText, type NoteVerifier } from './note.js';

export type Failure =
  | 'missing'
  | 'duplicated'
  | 'altered'
  | 'bad signature'
  | 'inconsistent checkpoints'
  | 'no checkpoint'
  | 'malformed';

export class VerifyFailure extends Error {
  override name = 'VerifyFailure';
  constructor(
    public readonly reason: Failure,
    /** The first bad Seq, when one can be named. */
    public readonly seq: number | null,
    message: string,
    /** For a root that does not match: the Seqs it covers since the last matched checkpoint. */
    public readonly range?: { first: number; last: number; checkpoint: string },
  ) {
    super(message);
  }
}

export interface SignedCheckpoint {
  origin: string;
  size: number;
  root: Buffer;
  where: string;
}

export interface VerifySummary {
  events: number;
  origin: string;
  checkpointsMatched: number;
}

/** Checks a signed note with the key and returns its checkpoint; throws a VerifyFailure if it is not one. */
export function openCheckpoint(note: string, key: NoteVerifier, where: string): SignedCheckpoint {
  const opened = openNote(note, key);
  if (!opened.ok) {
    throw new VerifyFailure(
      'bad signature',
      null,
      `bad signature: the checkpoint at ${where} is not signed by the key ${key.name} (${opened.reason})`,
    );
  }
  const c = parseCheckpointText(opened.text);
  if (!c) throw new VerifyFailure('malformed', null, `malformed: ${where} is not a tlog checkpoint`);
  return { ...c, where };
}

export class LogVerifier {
  private readonly checkpoints: SignedCheckpoint[];
  private next = 0;
  private range = CompactRange.empty();
  private lastMatched = 0;
  private matched = 0;
  readonly origin: string;

  constructor(checkpoints: SignedCheckpoint[], key: NoteVerifier) {
    if (checkpoints.length === 0) {
      throw new VerifyFailure(
        'no checkpoint',
        null,
        'no checkpoint: give the checkpoints `itportal siem pull` stored (FILE.checkpoints beside its output)',
      );
    }
    const origins = new Set(checkpoints.map((c) => c.origin));
    if (origins.size > 1) {
      throw new VerifyFailure(
        'inconsistent checkpoints',
        null,
        `inconsistent checkpoints: they name ${origins.size} logs (${[...origins].join(', ')}); verify one log at a time`,
      );
    }
    this.origin = checkpoints[0]!.origin;
    if (!this.origin.startsWith(`${key.name}/`)) {
      throw new VerifyFailure(
        'bad signature',
        null,
        `bad signature: the checkpoints are of ${this.origin}, which the key ${key.name} does not sign for`,
      );
    }
    const bySize = new Map<number, SignedCheckpoint>();
    for (const c of checkpoints) {
      const seen = bySize.get(c.size);
      if (seen && !seen.root.equals(c.root)) {
        throw new VerifyFailure(
          'inconsistent checkpoints',
          c.size > 0 ? c.size - 1 : null,
          `inconsistent checkpoints: two different signed roots for size ${c.size} (${seen.where}, ${c.where}): the log was forked or rewritten`,
        );
      }
      bySize.set(c.size, c);
    }
    this.checkpoints = [...bySize.values()].sort((a, b) => a.size - b.size);
    while (this.checkpoints[0]?.size === 0) {
      const c = this.checkpoints.shift()!;
      if (!c.root.equals(EMPTY_ROOT))
        throw new VerifyFailure('inconsistent checkpoints', null, `inconsistent checkpoints: ${c.where}`);
      this.matched += 1;
    }
  }

  /** One stored record (one NDJSON line, without its newline). */
  /** One stored record as bytes (one NDJSON line, without its newline). */
  addBytes(line: Buffer, where: () => string): void {
    const fast = leafInputOfServerLine(line);
    if (!fast) return this.add(line.toString('utf8'), where);
    this.inOrder(fast.seq, where);
    this.append(leafHashOfInput(fast.input), fast.seq);
  }

  add(line: string, where: () => string): void {
    const fast = leafOfServerLine(line);
    if (fast) {
      this.inOrder(fast.seq, where);
      this.append(leafHash(fast.leaf), fast.seq);
      return;
    }
    let record: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      record = parsed as Record<string, unknown>;
    } catch {
      throw new VerifyFailure(
        'altered',
        this.next,
        `altered: ${where()} is not a JSON event (expected Seq ${this.next} there; verify reads siem pull's json format, the default)`,
      );
    }
    const seq = record.Seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new VerifyFailure(
        'altered',
        this.next,
        `altered: ${where()} has no Seq (expected Seq ${this.next}; an ocsf or ecs record? verify reads siem pull's json format, the default)`,
      );
    }
    this.inOrder(seq, where);
    this.checkDerived(record, seq, where);
    this.append(leafHash(canonicalLeaf(record)), seq);
  }

  private inOrder(seq: number, where: () => string) {
    if (seq !== this.next) {
      if (seq < this.next) {
        throw new VerifyFailure('duplicated', seq, `duplicated: Seq ${seq} again at ${where()}`);
      }
      const last = seq - 1;
      throw new VerifyFailure(
        'missing',
        this.next,
        `missing: Seq ${this.next}${last > this.next ? `..${last}` : ''} (${where()} holds Seq ${seq})`,
      );
    }
  }

  private append(hash: Buffer, seq: number) {
    this.range.push(hash);
    const due = this.checkpoints[0];
    if (due && due.size === seq + 1) {
      if (!this.range.root().equals(due.root)) throw this.altered(due);
      this.checkpoints.shift();
      this.lastMatched = due.size;
      this.matched += 1;
    }
    this.next = seq + 1;
  }

  private altered(due: SignedCheckpoint): VerifyFailure {
    const first = this.lastMatched;
    const last = due.size - 1;
    const span = first === last ? `Seq ${first}` : `one of Seq ${first}..${last}`;
    return new VerifyFailure(
      'altered',
      first,
      `altered: ${span} does not hash to the signed checkpoint of size ${due.size} (${due.where})`,
      { first, last, checkpoint: `the signed checkpoint of size ${due.size} (${due.where})` },
    );
  }

  private checkDerived(record: Record<string, unknown>, seq: number, where: () => string) {
    const type = record.EventType;
    if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return; // the leaf hash covers EventType
    const info = eventTypeInfo(type);
    const target = record.Target as { Type?: unknown } | null | undefined;
    const expected = controlsOf(type, typeof target?.Type === 'string' ? target.Type : null);
    const controls = record.Controls;
    const sameControls =
      controls === undefined ||
      (Array.isArray(controls) &&
        controls.length === expected.length &&
        controls.every((c, i) => c === expected[i]));
    if ((record.Category !== undefined && record.Category !== info.category) || !sameControls) {
      throw new VerifyFailure(
        'altered',
        seq,
        `altered: Seq ${seq} at ${where()}: its Category or Controls are not those of ${type}`,
      );
    }
  }

  /** After the last record: every record covered by a signature, none missing at the end. */
  finish(): VerifySummary {
    const beyond = this.checkpoints[0];
    if (beyond) {
      const last = beyond.size - 1;
      throw new VerifyFailure(
        'missing',
        this.next,
        `missing: Seq ${this.next}${last > this.next ? `..${last}` : ''} (the checkpoint ${beyond.where} signs ${beyond.size} events; the files end at Seq ${this.next - 1})`,
      );
    }
    if (this.lastMatched !== this.next) {
      throw new VerifyFailure(
        'no checkpoint',
        this.lastMatched,
        `no checkpoint: Seq ${this.lastMatched}..${this.next - 1} are covered by no signed checkpoint; fetch one (GET /api/siem/log/checkpoint, or poll once more with siem pull) and verify again`,
      );
    }
    return {
      events: this.next,
      origin: this.origin,
      checkpointsMatched: this.matched,
    };
  }
}
