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
import { CompactRange, EMPTY_ROOT, leafHash, leafHashOfInput, verifyInclusion } from './merkle.js';
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

/** The log's left frontier at `size` (roots of the perfect subtrees over Seq 0..size−1, largest first). */
export interface Frontier {
  size: number;
  hashes: Buffer[];
}

export interface VerifySummary {
  /** The first Seq verified: 0, or where a stated range starts (a frontier was given). */
  first: number;
  events: number;
  /** A filtered pull's records, each proven by its own inclusion proof (gaps by design). */
  filtered?: boolean;
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

/**
 * Where a filtered pull's records are proven one by one (SPEC §8: "a filtered feed's records verify for
 * inclusion and integrity only"): the inclusion proof of the record at `seq` and the tree size it is for.
 */
export interface ProofSource {
  proofFor(seq: number): { size: number; proof: Buffer[] } | null;
}

export class LogVerifier {
  private readonly checkpoints: SignedCheckpoint[];
  private readonly bySize: Map<number, SignedCheckpoint>;
  private readonly inclusion: ProofSource | null;
  private readonly sizesUsed = new Set<number>();
  private readonly beside: { proofsBeside: boolean; frontierSizes: number[] };
  private count = 0;
  private next = 0;
  private range = CompactRange.empty();
  private lastMatched = 0;
  private matched = 0;
  private first = 0;
  private readonly frontiers = new Map<number, Buffer[]>();
  readonly origin: string;

  /**
   * `frontiers`: where the records may start past Seq 0 (a pull with --since, siem pull keeps it). A
   * frontier is not trusted as given: the roots computed from it and the records must match signed
   * checkpoints, as every root must.
   */
  constructor(
    checkpoints: SignedCheckpoint[],
    key: NoteVerifier,
    frontiers: readonly Frontier[] = [],
    /** Given for a filtered pull: each record is checked by its own inclusion proof, gaps allowed. */
    inclusion: ProofSource | null = null,
    /** For the hints of a failure: what else the files hold that the auditor did not state. */
    beside: { proofsBeside: boolean; frontierSizes: number[] } = { proofsBeside: false, frontierSizes: [] },
  ) {
    this.inclusion = inclusion;
    this.beside = beside;
    for (const f of frontiers) if (f.size > 0) this.frontiers.set(f.size, f.hashes);
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
    this.bySize = bySize;
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
    if (this.inclusion) {
      // Gaps are the filter's; a Seq again (or an earlier one) is not.
      if (seq < this.next)
        throw new VerifyFailure('duplicated', seq, `duplicated: Seq ${seq} again at ${where()}`);
      return;
    }
    if (this.next === 0 && this.range.size === 0 && seq > 0 && this.frontiers.has(seq)) this.startAt(seq);
    if (seq !== this.next) {
      if (seq < this.next) {
        throw new VerifyFailure('duplicated', seq, `duplicated: Seq ${seq} again at ${where()}`);
      }
      const last = seq - 1;
      const hint = this.beside.proofsBeside
        ? '; the files are a filtered pull (FILE.proofs beside them): verify them with --filtered, for inclusion and integrity only'
        : this.next === 0 && this.beside.frontierSizes.includes(seq)
          ? `; a pull started with --since at Seq ${seq}: state it with --from ${seq}`
          : this.next === 0
            ? '; a pull that started later (--since) is verified from there with --from <its first Seq>'
            : '';
      throw new VerifyFailure(
        'missing',
        this.next,
        `missing: Seq ${this.next}${last > this.next ? `..${last}` : ''} (${where()} holds Seq ${seq})${hint}`,
      );
    }
  }

  /** A stated range: the records start at `seq`, the tree's left part given by its frontier. */
  private startAt(seq: number) {
    this.range = new CompactRange(seq, [...this.frontiers.get(seq)!]);
    this.next = seq;
    this.first = seq;
    this.lastMatched = seq;
    // Checkpoints below the range sign leaves not held here: nothing to match them with. One of
    // exactly that size must be the frontier's own root.
    while (this.checkpoints[0] && this.checkpoints[0].size <= seq) {
      const c = this.checkpoints.shift()!;
      if (c.size !== seq) continue; // below the range: nothing here to check it with, not counted
      if (!this.range.root().equals(c.root)) {
        throw new VerifyFailure(
          'inconsistent checkpoints',
          seq,
          `inconsistent checkpoints: the frontier at Seq ${seq} (FILE.checkpoints) does not hash to the signed checkpoint of size ${seq} (${c.where})`,
        );
      }
      this.matched += 1;
    }
  }

  private append(hash: Buffer, seq: number) {
    if (this.inclusion) return this.included(hash, seq);
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

  /** A filtered pull's record: its leaf, by its own proof, in a tree a signed checkpoint names. */
  private included(hash: Buffer, seq: number) {
    const given = this.inclusion!.proofFor(seq);
    if (!given) {
      throw new VerifyFailure(
        'no checkpoint',
        seq,
        `no checkpoint: Seq ${seq} has no inclusion proof (FILE.proofs, which siem pull --event-type keeps)`,
      );
    }
    const signed = this.bySize.get(given.size);
    if (!signed) {
      throw new VerifyFailure(
        'no checkpoint',
        seq,
        `no checkpoint: the proof of Seq ${seq} is for size ${given.size}, which no signed checkpoint covers`,
      );
    }
    if (!verifyInclusion(seq, given.size, hash, given.proof, signed.root)) {
      throw new VerifyFailure(
        'altered',
        seq,
        `altered: Seq ${seq} is not the entry the signed checkpoint of size ${given.size} (${signed.where}) includes`,
      );
    }
    this.sizesUsed.add(given.size);
    this.count += 1;
    if (this.count === 1) this.first = seq;
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
    if (this.inclusion) {
      if (this.count === 0) {
        throw new VerifyFailure('missing', null, 'missing: the files hold no record to verify');
      }
      return {
        first: this.first,
        events: this.count,
        origin: this.origin,
        checkpointsMatched: this.sizesUsed.size,
        filtered: true,
      };
    }
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
      first: this.first,
      events: this.next - this.first,
      origin: this.origin,
      checkpointsMatched: this.matched,
    };
  }
}
