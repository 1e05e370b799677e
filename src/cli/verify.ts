/**
 * `itportal verify --key-file <verifier key> <files…>`: the auditor's offline check (SPEC §8), no
 * portal and no network needed. The files are what `itportal siem pull` wrote: the NDJSON output and
 * its rotations (in any order: they are put in Seq order by their first record) and FILE.checkpoints
 * (found beside the output, or given). Its state and lock files are passed over, so `events.ndjson*`
 * is a valid argument list.
 *
 * Exit codes: 0 verified; 1 verification failed (the first bad Seq and why on stderr); 2 bad usage
 * (unreadable key or file).
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { DIGEST_BYTES, lineDigest } from './line-digest.js';
import { parseVerifierKey, type NoteVerifier } from '../modules/log/note.js';
import {
  LogVerifier,
  VerifyFailure,
  openCheckpoint,
  type Frontier,
  type ProofSource,
  type SignedCheckpoint,
} from '../modules/log/verifier.js';

export class VerifyUsageError extends Error {
  override name = 'UsageError';
}

const SKIPPED = /\.(state\.json|lock|tmp)$/;
const CHECKPOINTS = /\.checkpoints$/;
const DIGESTS = /\.digests$/;
const PROOFS = /\.proofs$/;
const SEQ = /"Seq":(\d+)/;

export interface VerifyOptions {
  keyFile: string;
  files: string[];
  /**
   * What the auditor states, never read from the files (a sidecar anyone can plant must not turn a
   * full-trail check into a weaker one): `from`, the Seq the records start at (a --since pull; its
   * frontier from FILE.checkpoints is then used); `filtered`, each record by its own inclusion proof.
   */
  from?: number;
  filtered?: boolean;
  /** Progress on stderr: a bar on a terminal, otherwise nothing (the summary line is enough). */
  progress?: boolean;
}

export function readVerifierKey(file: string): NoteVerifier {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new VerifyUsageError(`cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  // The file may hold the key itself, or the JSON GET /api/siem/log/key answers.
  try {
    const parsed = JSON.parse(text) as { VerifierKey?: unknown };
    if (typeof parsed.VerifierKey === 'string') text = parsed.VerifierKey;
  } catch {
    // the plain key
  }
  try {
    return parseVerifierKey(text);
  } catch (err) {
    throw new VerifyUsageError(`${file}: ${(err as Error).message}`);
  }
}

/**
 * The checkpoints of a file: one JSON object a line with a Checkpoint note (siem pull), or one raw
 * note; and the frontiers siem pull kept for a pull that starts past Seq 0 (`{"Frontier":…}` lines).
 */
function readCheckpoints(
  file: string,
  key: NoteVerifier,
): { checkpoints: SignedCheckpoint[]; frontiers: Frontier[] } {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.trimStart().startsWith('{'))
    return { checkpoints: [openCheckpoint(text, key, file)], frontiers: [] };
  const checkpoints: SignedCheckpoint[] = [];
  const frontiers: Frontier[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let entry: { Checkpoint?: unknown; Frontier?: { Size?: unknown; Hashes?: unknown } } | undefined;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // A last line cut by a kill of siem pull mid-write: the checkpoints before it stand.
      if (i === lines.length - 1) return;
    }
    const frontier = entry?.Frontier;
    if (frontier && Number.isSafeInteger(frontier.Size) && Array.isArray(frontier.Hashes)) {
      const hashes = frontier.Hashes.map((h) => (typeof h === 'string' ? Buffer.from(h, 'base64') : null));
      // A frontier of size N holds one root per 1-bit of N (the perfect subtrees over Seq 0..N−1).
      const ones = (frontier.Size as number).toString(2).replace(/0/g, '').length;
      if (hashes.length === ones && hashes.every((h) => h?.length === 32)) {
        frontiers.push({ size: frontier.Size as number, hashes: hashes as Buffer[] });
        return;
      }
      throw new VerifyFailure('malformed', null, `malformed: ${file}:${i + 1} holds no valid Frontier`);
    }
    if (typeof entry?.Checkpoint !== 'string') {
      throw new VerifyFailure('malformed', null, `malformed: ${file}:${i + 1} holds no Checkpoint`);
    }
    checkpoints.push(openCheckpoint(entry.Checkpoint, key, `${file}:${i + 1}`));
  });
  return { checkpoints, frontiers };
}

function firstSeq(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const m = /"Seq":(\d+)/.exec(text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length));
    return m ? Number(m[1]) : -1;
  } finally {
    fs.closeSync(fd);
  }
}

function progressBar(total: number, enabled: boolean) {
  let last = 0;
  const started = Date.now();
  return {
    update(done: number, events: number) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      const rate = Math.round(events / Math.max(0.001, (now - started) / 1000));
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${total > 0 ? Math.floor((done / total) * 100) : 100}% ${events} events, ${rate}/s`,
      );
    },
    end() {
      if (enabled) process.stderr.write('\n');
    },
  };
}

export interface VerifyOutcome {
  ok: boolean;
  /** A filtered pull, each record proven by its own inclusion proof: no claim about the gaps. */
  filtered?: boolean;
  /** The first Seq verified (0, or where a stated range starts). */
  first?: number;
  events: number;
  origin?: string;
  checkpoints?: number;
  seconds: number;
  failure?: { reason: string; seq: number | null; message: string };
}

/** Verifies the files; resolves with the outcome (never throws a VerifyFailure). */
export async function verifyFiles(options: VerifyOptions): Promise<VerifyOutcome> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const key = readVerifierKey(options.keyFile);
  const eventFiles: string[] = [];
  const checkpointFiles = new Set<string>();
  const digestFiles = new Set<string>();
  const proofFiles = new Set<string>();
  for (const file of options.files) {
    if (!fs.existsSync(file)) throw new VerifyUsageError(`no such file: ${file}`);
    if (SKIPPED.test(file)) continue;
    if (CHECKPOINTS.test(file)) checkpointFiles.add(file);
    else if (DIGESTS.test(file)) digestFiles.add(file);
    else if (PROOFS.test(file)) proofFiles.add(file);
    else {
      eventFiles.push(file);
      const base = file.replace(/\.\d+$/, '');
      if (fs.existsSync(`${base}.checkpoints`)) checkpointFiles.add(`${base}.checkpoints`);
      if (fs.existsSync(`${base}.digests`)) digestFiles.add(`${base}.digests`);
      if (fs.existsSync(`${base}.proofs`)) proofFiles.add(`${base}.proofs`);
    }
  }
  if (eventFiles.length === 0) throw new VerifyUsageError('no event files given');
  let events = 0;
  const ordered = eventFiles
    .map((file) => ({ file, first: firstSeq(file), size: fs.statSync(file).size }))
    .sort((a, b) => a.first - b.first);
  try {
    const read = [...checkpointFiles].map((f) => readCheckpoints(f, key));
    if (options.filtered && proofFiles.size === 0) {
      throw new VerifyUsageError(
        '--filtered: no FILE.proofs beside the output (siem pull --event-type keeps one); give it with the files',
      );
    }
    const frontiers = read.flatMap((r) => r.frontiers);
    const from = options.from ?? 0;
    if (from > 0 && !frontiers.some((f) => f.size === from)) {
      throw new VerifyUsageError(
        `--from ${from}: FILE.checkpoints holds no frontier at Seq ${from} (siem pull keeps the one where a --since pull starts${
          frontiers.length > 0 ? `: ${frontiers.map((f) => f.size).join(', ')}` : ''
        })`,
      );
    }
    const verifier = new LogVerifier(
      read.flatMap((r) => r.checkpoints),
      key,
      frontiers.filter((f) => f.size === from),
      options.filtered ? proofSource([...proofFiles]) : null,
      { proofsBeside: proofFiles.size > 0, frontierSizes: frontiers.map((f) => f.size) },
    );
    const total = ordered.reduce((n, f) => n + f.size, 0);
    const bar = progressBar(total, options.progress ?? false);
    let readBytes = 0;
    try {
      for (const { file } of ordered) {
        let lineNo = 0;
        let rest: Buffer = Buffer.alloc(0);
        const where = () => `${file}:${lineNo}`;
        for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
          const buf = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
          readBytes += (chunk as Buffer).length;
          let start = 0;
          for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
            lineNo += 1;
            if (nl > start) {
              verifier.addBytes(buf.subarray(start, nl), where);
              events += 1;
            }
            start = nl + 1;
          }
          rest = buf.subarray(start);
          bar.update(readBytes, events);
        }
        if (rest.toString('utf8').trim() !== '') {
          lineNo += 1;
          verifier.addBytes(rest, where);
          events += 1;
        }
      }
    } finally {
      bar.end();
    }
    const summary = verifier.finish();
    return {
      ok: true,
      ...(summary.filtered ? { filtered: true } : {}),
      first: summary.first,
      events: summary.events,
      origin: summary.origin,
      checkpoints: summary.checkpointsMatched,
      seconds: seconds(),
    };
  } catch (err) {
    if (!(err instanceof VerifyFailure)) throw err;
    let { seq, message } = err;
    if (err.range && digestFiles.size > 0) {
      const found = await locateAltered(
        ordered.map((f) => f.file),
        [...digestFiles],
        err.range,
      );
      if (found) {
        seq = found.seq;
        message =
          `altered: Seq ${found.seq} (${found.where}) is not the record siem pull received (its digest in ` +
          `${found.digests} differs; the digests point, they are not signed), and Seq ${err.range.first}..` +
          `${err.range.last} do not hash to ${err.range.checkpoint}`;
      }
    }
    return { ok: false, events, seconds: seconds(), failure: { reason: err.reason, seq, message } };
  }
}

/**
 * The inclusion proofs a filtered `siem pull` kept (FILE.proofs: per page `{"Size":S,"Proofs":[{"Seq":n,
 * "Proof":[base64…]}]}`), read in step with the records (both in Seq order): a proof for a Seq is the
 * next one at or after the Seqs already asked; a page kept twice (a pull restarted) is passed over.
 */
function proofSource(files: string[]): ProofSource {
  // Forward only, a line at a time (a large filtered pull's proofs never sit in memory at once): the
  // records ask in Seq order, and siem pull wrote its pages in that order (a page kept twice, by a
  // restart before its commit, repeats Seqs already passed, and is passed over).
  const lines = syncLines(files);
  let page: Array<{ Seq?: unknown; Proof?: unknown }> = [];
  let size = 0;
  let at = 0;
  const next = (): { seq: number; size: number; proof: unknown } | null => {
    for (;;) {
      if (at < page.length) {
        const p = page[at++]!;
        if (typeof p.Seq === 'number') return { seq: p.Seq, size, proof: p.Proof };
        continue;
      }
      const line = lines.next();
      if (line === null) return null;
      try {
        const parsed = JSON.parse(line) as { Size?: unknown; Proofs?: unknown };
        if (typeof parsed.Size !== 'number' || !Array.isArray(parsed.Proofs)) continue;
        page = parsed.Proofs as typeof page;
        size = parsed.Size;
        at = 0;
      } catch {
        // an empty or cut line
      }
    }
  };
  let current = next();
  return {
    proofFor(seq) {
      while (current && current.seq < seq) current = next();
      if (!current || current.seq !== seq || !Array.isArray(current.proof)) return null;
      const proof = (current.proof as unknown[]).map((h) => Buffer.from(String(h), 'base64'));
      return { size: current.size, proof };
    },
  };
}

/** The lines of files, read synchronously in chunks (never a whole file as one string). */
function syncLines(files: string[]): { next(): string | null } {
  let fileIndex = 0;
  let fd: number | null = null;
  let rest = '';
  const buf = Buffer.alloc(1 << 20);
  const decoder = new StringDecoder('utf8');
  const pending: string[] = [];
  return {
    next() {
      for (;;) {
        if (pending.length > 0) return pending.shift()!;
        if (fd === null) {
          if (fileIndex >= files.length) return null;
          fd = fs.openSync(files[fileIndex++]!, 'r');
        }
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) {
          fs.closeSync(fd);
          fd = null;
          const last = rest + decoder.end();
          rest = '';
          if (last !== '') pending.push(last);
          continue;
        }
        const text = rest + decoder.write(buf.subarray(0, n));
        const parts = text.split('\n');
        rest = parts.pop()!;
        pending.push(...parts);
      }
    },
  };
}

/**
 * The first record of `range` whose line is not the one `siem pull` wrote, by the digests it kept
 * (line-digest.ts); null when none differs or none was kept (the range then stands as the answer).
 * Only run after a failure: a second read of the files, none of it on the verified path.
 */
async function locateAltered(
  files: string[],
  digestFiles: string[],
  range: { first: number; last: number },
): Promise<{ seq: number; where: string; digests: string } | null> {
  const kept = new Map<number, { digest: Buffer; file: string }>();
  for (const file of digestFiles) {
    for await (const line of readline.createInterface({
      input: fs.createReadStream(file),
      crlfDelay: Infinity,
    })) {
      let entry: { From?: unknown; Digests?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // an empty or cut last line
      }
      if (typeof entry.From !== 'number' || typeof entry.Digests !== 'string') continue;
      const bytes = Buffer.from(entry.Digests, 'base64');
      for (let i = 0; i * DIGEST_BYTES < bytes.length; i++) {
        const seq = entry.From + i;
        if (seq < range.first || seq > range.last) continue;
        kept.set(seq, { digest: bytes.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES), file });
      }
    }
  }
  if (kept.size === 0) return null;
  let found: { seq: number; where: string; digests: string } | null = null;
  for (const file of files) {
    let lineNo = 0;
    const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      lineNo += 1;
      const m = SEQ.exec(line);
      if (!m) continue;
      const seq = Number(m[1]);
      const own = kept.get(seq);
      if (!own || (found && found.seq <= seq)) continue;
      if (!lineDigest(line).equals(own.digest))
        found = { seq, where: `${file}:${lineNo}`, digests: own.file };
    }
  }
  return found;
}

export async function verify(
  keyFile: string,
  files: string[],
  opts: { json?: boolean; from?: string; filtered?: boolean },
): Promise<number> {
  let outcome: VerifyOutcome;
  try {
    if (opts.from !== undefined && !/^[0-9]{1,15}$/.test(opts.from)) {
      throw new VerifyUsageError(`--from must be a Seq (0, 1, 2, …), not "${opts.from}"`);
    }
    if (opts.from !== undefined && opts.filtered) {
      throw new VerifyUsageError(
        '--from and --filtered: a filtered pull is checked record by record, give one',
      );
    }
    outcome = await verifyFiles({
      keyFile,
      files,
      progress: !opts.json && process.stderr.isTTY,
      ...(opts.from !== undefined ? { from: Number(opts.from) } : {}),
      ...(opts.filtered ? { filtered: true } : {}),
    });
  } catch (err) {
    if (err instanceof VerifyUsageError) {
      console.error(`itportal verify: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const rate = Math.round(outcome.events / Math.max(outcome.seconds, 1e-6));
  if (opts.json) {
    console.log(JSON.stringify({ ...outcome, eventsPerSecond: rate }));
  } else if (outcome.ok && outcome.filtered) {
    console.log(
      `verified (filtered pull: inclusion and integrity only): ${outcome.events} records of ${outcome.origin}, ` +
        `each unaltered and included in the log under a signed checkpoint, none twice; the Seqs a filter ` +
        `skipped are not claimed (${outcome.checkpoints} signed checkpoints used, ${outcome.seconds.toFixed(2)} s)`,
    );
  } else if (outcome.ok) {
    console.log(
      `verified: Seq ${outcome.first ?? 0}..${(outcome.first ?? 0) + outcome.events - 1} of ${outcome.origin}, each exactly once and unaltered ` +
        `(${outcome.events} events, ${outcome.checkpoints} signed checkpoints matched, ${outcome.seconds.toFixed(2)} s, ${rate} events/s)`,
    );
  } else {
    console.error(
      `itportal verify: FAILED at Seq ${outcome.failure!.seq ?? '-'}: ${outcome.failure!.message}`,
    );
  }
  return outcome.ok ? 0 : 1;
}
