/**
 * `itportal siem pull`: the reference SIEM client. It follows the feed's cursor (SPEC §3), writes each
 * event as one NDJSON line, and keeps the cursor with the output offset it belongs to in a state file,
 * so that a kill at any instant and a restart leave every event in the output exactly once (the
 * protocol is in siem-pull-output.ts). It is how Wazuh, QRadar or a Splunk forwarder ingest the feed
 * from files, and a worked example for anyone writing their own client.
 *
 * Loop: first poll with --since (or from the oldest event), then with the stored cursor; poll again at
 * once while HasMore, otherwise sleep --interval (or, with --once, exit 0). The key comes from
 * --key-file or ITPORTAL_SIEM_KEY, never from a flag, which would show in `ps` and shell history.
 *
 * Exit codes: 0 done (--once drained, or stopped by SIGINT/SIGTERM); 1 runtime failure (retries
 * exhausted, output or state trouble); 2 bad usage; 3 refused by the server (401, 400, 404).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  FeedRefusedError,
  fetchFrontier,
  fetchInclusions,
  fetchPageWithRetry,
  feedUrl,
  withRetry,
} from './siem-pull-http.js';
import { PullOutput, PullStateError } from './siem-pull-output.js';
import { FORMAT_NAMES } from '../modules/feed/presenters/index.js';
import { DIGEST_BYTES, lineDigest } from './line-digest.js';

export const SIEM_PULL_USAGE = `usage: itportal siem pull --url <portal URL> --out <file.ndjson> [options]

  --url URL            the portal, e.g. https://portal.example.com (or its /api/siem/events URL)
  --key-file FILE      file holding the SIEM key; or set ITPORTAL_SIEM_KEY (never a flag: ps shows flags)
  --out FILE           NDJSON output, one event a line; rotated to FILE.1, FILE.2, … (1 is the oldest)
  --state FILE         cursor and output offset (default: FILE.state.json beside --out)
                       (the signed checkpoints received go to FILE.checkpoints, for itportal verify,
                       with the log's frontier where a --since pull starts;
                       FILE.digests lets verify name the very record that was altered; with
                       --event-type, FILE.proofs holds each record's inclusion proof)
  --since INSTANT      first poll only: events at or after it (ISO 8601, e.g. 2026-04-25T00:00:00Z)
  --event-type LIST    server-side filter, e.g. Login.Failure,Access.Denied or Login.*
  --format NAME        wire format: json (default), ocsf, ecs (NDJSON), cef, leef, syslog (the line itself);
                       itportal verify checks json output only
  --limit N            events per page, 1-5000 (default: the server's, 5000)
  --interval SECONDS   wait between polls once caught up (default 300)
  --max-bytes N        rotate the output when it exceeds N bytes (default 104857600 = 100 MiB)
  --max-retries N      give up after N retries of a transient failure (default: 5 with --once, else unlimited)
  --timeout SECONDS    per request (default 60)
  --once               drain until HasMore is false, then exit 0 (for cron)
  --json-log           log JSON lines even on a terminal (the default when stderr is not a terminal)`;

/**
 * FILE.digests: per page, the first 8 bytes of SHA-256 of each line as written, for the Seqs
 * `From`, `From`+1, … (`{"From":N,"Digests":"<base64>"}`). Not a proof (anyone who can edit the output
 * can edit this too; the signed checkpoints are the proof): it lets `itportal verify` name the very
 * record whose bytes changed when a checkpoint's root does not match. Null for a page whose Seqs are
 * not consecutive (a filtered pull, which verify does not check as a whole anyway).
 */
export function lineDigests(events: unknown[], records: string[]): { From: number; Digests: string } | null {
  if (events.length === 0) return null;
  const seqOf = (e: unknown) => (e && typeof e === 'object' ? (e as { Seq?: unknown }).Seq : undefined);
  const from = seqOf(events[0]);
  if (typeof from !== 'number') return null;
  const out = Buffer.allocUnsafe(records.length * DIGEST_BYTES);
  for (let i = 0; i < records.length; i++) {
    if (seqOf(events[i]) !== from + i) return null;
    lineDigest(records[i]!).copy(out, i * DIGEST_BYTES);
  }
  return { From: from, Digests: out.toString('base64') };
}

/** The tree size a checkpoint note signs (its second line), or null when it is not one. */
function checkpointSize(note: unknown): number | null {
  if (typeof note !== 'string') return null;
  const size = Number(note.split('\n')[1]);
  return Number.isSafeInteger(size) && size > 0 ? size : null;
}

const KEY_FORMAT = /^itp_siem_[0-9a-f]{16}_[0-9a-f]{64}$/;
const USER_AGENT = 'itportal-siem-pull/1';

export interface PullOptions {
  url: string;
  keyFile: string | null;
  out: string;
  state: string;
  since: string | null;
  eventType: string | null;
  /** The wire format asked of the server (SPEC §9); json unless --format says otherwise. */
  format: string;
  limit: number | null;
  intervalMs: number;
  maxBytes: number;
  maxRetries: number;
  timeoutMs: number;
  once: boolean;
  jsonLog: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function positiveNumber(name: string, value: string, { integer = false, min = 0 } = {}): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, not "${value}"`);
  }
  return n;
}

/** Parses `siem pull` arguments; throws UsageError with a message fit for the terminal. */
export function parsePullArgs(args: string[]): PullOptions {
  if (args.some((a) => a === '--key' || a.startsWith('--key='))) {
    throw new UsageError(
      '--key is refused on purpose: a flag shows the key to every user of `ps` and stays in shell history. ' +
        'Put the key in a file readable only by you (--key-file FILE) or in the ITPORTAL_SIEM_KEY environment variable.',
    );
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'key-file': { type: 'string' },
      out: { type: 'string' },
      state: { type: 'string' },
      since: { type: 'string' },
      'event-type': { type: 'string' },
      format: { type: 'string', default: 'json' },
      limit: { type: 'string' },
      interval: { type: 'string', default: '300' },
      'max-bytes': { type: 'string', default: String(100 * 1024 * 1024) },
      'max-retries': { type: 'string' },
      timeout: { type: 'string', default: '60' },
      once: { type: 'boolean', default: false },
      'json-log': { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.url) throw new UsageError('--url is required');
  if (!values.out) throw new UsageError('--out is required');
  let url: string;
  try {
    url = feedUrl(values.url);
  } catch (err) {
    throw new UsageError(
      err instanceof TypeError ? `--url is not a URL: "${values.url}"` : (err as Error).message,
    );
  }
  const limit =
    values.limit === undefined ? null : positiveNumber('limit', values.limit, { integer: true, min: 1 });
  if (limit !== null && limit > 5000) throw new UsageError('--limit must be from 1 to 5000');
  if (!(FORMAT_NAMES as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format must be one of ${FORMAT_NAMES.join(', ')}, not "${values.format}"`);
  }
  return {
    url,
    keyFile: values['key-file'] ?? null,
    out: values.out,
    state: values.state ?? `${values.out}.state.json`,
    since: values.since ?? null,
    eventType: values['event-type'] ?? null,
    format: values.format,
    limit,
    intervalMs: Math.round(positiveNumber('interval', values.interval) * 1000),
    maxBytes: positiveNumber('max-bytes', values['max-bytes'], { integer: true, min: 1 }),
    maxRetries:
      values['max-retries'] !== undefined
        ? positiveNumber('max-retries', values['max-retries'], { integer: true })
        : values.once
          ? 5
          : Infinity,
    timeoutMs: Math.round(positiveNumber('timeout', values.timeout, { min: 1 }) * 1000),
    once: values.once,
    jsonLog: values['json-log'],
  };
}

/** Reads the key from --key-file or ITPORTAL_SIEM_KEY; the messages never contain the key itself. */
export function readKey(keyFile: string | null, env: NodeJS.ProcessEnv = process.env): string {
  let key: string;
  if (keyFile) {
    // Like ssh with a private key: a key file others can read is refused, with the fix.
    let mode: number | null = null;
    try {
      mode = fs.statSync(keyFile).mode & 0o777;
    } catch {
      mode = null; // reported by the read below
    }
    if (mode !== null && process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new UsageError(
        `--key-file ${keyFile} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); ` +
          `the key must be yours alone: run  chmod 600 ${keyFile}`,
      );
    }
    try {
      key = fs.readFileSync(keyFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(
        `cannot read --key-file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  } else if (env.ITPORTAL_SIEM_KEY) {
    key = env.ITPORTAL_SIEM_KEY.trim();
  } else {
    throw new UsageError('no key: pass --key-file FILE or set ITPORTAL_SIEM_KEY');
  }
  if (!KEY_FORMAT.test(key)) {
    const where = keyFile ? `--key-file ${keyFile}` : 'ITPORTAL_SIEM_KEY';
    throw new UsageError(
      `${where} does not hold an IT Portal SIEM key (itp_siem_<16 hex>_<64 hex>, one line); it is not shown here`,
    );
  }
  return key;
}

interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  progress(text: string): void;
}

/** JSON lines on stderr for machines; on a terminal, one progress line rewritten in place. */
function createLogger(json: boolean): Logger {
  const line = (level: string, msg: string, fields: Record<string, unknown> = {}) => {
    if (json) {
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
    } else {
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      process.stderr.write(
        `\r\x1b[K${level === 'info' ? '' : `${level}: `}${msg}${extra ? ` (${extra})` : ''}\n`,
      );
    }
  };
  return {
    info: (msg, fields) => line('info', msg, fields),
    warn: (msg, fields) => line('warn', msg, fields),
    error: (msg, fields) => line('error', msg, fields),
    progress: (text) => {
      if (!json) process.stderr.write(`\r\x1b[K${text}`);
    },
  };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Takes `<state>.lock` for this process; a lock left by a dead process (e.g. after SIGKILL) is taken over. */
function acquireLock(lockPath: string): () => void {
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = fs.openSync(lockPath, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new PullStateError(
          `another siem pull (pid ${pid}) is using ${lockPath.replace(/\.lock$/, '')}; two clients on one state would write events twice`,
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new PullStateError(`cannot take the lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function siemPull(args: string[]): Promise<number> {
  let options: PullOptions;
  let key: string;
  try {
    options = parsePullArgs(args);
    key = readKey(options.keyFile);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`itportal siem pull: ${err.message}\n\n${SIEM_PULL_USAGE}`);
      return 2;
    }
    throw err;
  }
  const jsonLog = options.jsonLog || !process.stderr.isTTY;
  const log = createLogger(jsonLog);

  let stopping = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  let release: (() => void) | null = null;
  let output: PullOutput | null = null;
  try {
    for (const file of [options.out, options.state]) fs.mkdirSync(path.dirname(file), { recursive: true });
    release = acquireLock(`${options.state}.lock`);
    output = PullOutput.open({
      out: options.out,
      statePath: options.state,
      url: options.url,
      since: options.since,
      eventType: options.eventType,
      format: options.format,
      maxBytes: options.maxBytes,
    });
    const { recovered } = output;
    if (options.since && output.cursor) {
      log.info('resuming from the stored cursor; --since applies to the first poll only', {
        state: options.state,
      });
    }
    log.info('siem pull started', {
      url: options.url,
      out: options.out,
      state: options.state,
      resumed: !recovered.fresh,
      droppedUncommittedBytes: recovered.truncatedBytes,
      finishedRotation: recovered.finishedRotation,
    });

    let events = 0;
    let pages = 0;
    const checkpointsPath = `${options.out}.checkpoints`;
    const digestsPath = `${options.out}.digests`;
    const proofsPath = `${options.out}.proofs`;
    let lastCheckpoint: string | null = null;
    while (!stopping) {
      const page = await fetchPageWithRetry(
        {
          url: options.url,
          key,
          cursor: output.cursor,
          since: output.since,
          limit: options.limit,
          eventType: options.eventType,
          format: options.format,
          userAgent: USER_AGENT,
          timeoutMs: options.timeoutMs,
        },
        {
          maxRetries: options.maxRetries,
          sleep,
          onRetry: ({ attempt, delayMs, error }) =>
            log.warn('poll failed, retrying', { attempt, retryInMs: delayMs, error: error.message }),
        },
      );
      const retry = (what: string) => ({
        maxRetries: options.maxRetries,
        sleep,
        onRetry: ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: Error }) =>
          log.warn(`${what} failed, retrying`, { attempt, retryInMs: delayMs, error: error.message }),
      });
      // What itportal verify needs besides the records is fetched and kept BEFORE the page is
      // committed: a kill or a failure in between leaves the page uncommitted, so the restart asks for
      // it again and fetches them again (verify passes over a repeat), never a page without them.
      // 1. A json output that starts past Seq 0 (--since): the log's frontier there, for
      //    `verify --from N` (nothing written yet: a first page, or the first after empty polls).
      const first = (page.Events[0] as { Seq?: unknown } | undefined)?.Seq;
      if (
        output.offset === 0 &&
        output.rotations === 0 &&
        options.format === 'json' &&
        !options.eventType &&
        typeof first === 'number' &&
        first > 0
      ) {
        const frontier = await withRetry(
          () =>
            fetchFrontier({
              url: options.url,
              key,
              seq: first,
              userAgent: USER_AGENT,
              timeoutMs: options.timeoutMs,
            }),
          retry('the log frontier'),
        );
        fs.appendFileSync(checkpointsPath, `${JSON.stringify({ Frontier: frontier })}\n`, { mode: 0o600 });
      }
      // 2. A filtered json pull: the inclusion proofs of the page's records in the tree its checkpoint
      //    signs, for `verify --filtered` (inclusion and integrity; a filter leaves gaps by design).
      if (options.format === 'json' && options.eventType && page.Events.length > 0) {
        const size = checkpointSize(page.Checkpoint);
        const seqs = page.Events.map((e) => (e as { Seq?: unknown }).Seq).filter(
          (n): n is number => typeof n === 'number',
        );
        // Audit.SiemPoll is read from the poll log, alone (SPEC §8): its proofs are that log's.
        const logName = /(^|,)\s*Audit\.SiemPoll\s*(,|$)/.test(options.eventType) ? 'polls' : 'trail';
        if (size !== null) {
          for (let i = 0; i < seqs.length; i += 500) {
            const proofs = await withRetry(
              () =>
                fetchInclusions({
                  url: options.url,
                  key,
                  seqs: seqs.slice(i, i + 500),
                  size,
                  log: logName,
                  userAgent: USER_AGENT,
                  timeoutMs: options.timeoutMs,
                }),
              retry('inclusion proofs'),
            );
            fs.appendFileSync(proofsPath, `${JSON.stringify(proofs)}\n`, { mode: 0o600 });
          }
        }
      }
      const committed = output.commitPage(page.Events, page.NextCursor);
      // After the page is committed: a checkpoint never covers events the output might not hold.
      if (typeof page.Checkpoint === 'string' && page.Checkpoint !== lastCheckpoint) {
        fs.appendFileSync(checkpointsPath, `${JSON.stringify({ Checkpoint: page.Checkpoint })}\n`, {
          mode: 0o600,
        });
        lastCheckpoint = page.Checkpoint;
      }
      if (options.format === 'json') {
        const digests = lineDigests(page.Events, committed.records);
        if (digests) fs.appendFileSync(digestsPath, `${JSON.stringify(digests)}\n`, { mode: 0o600 });
      }
      pages += 1;
      events += page.Events.length;
      const fields = {
        events: page.Events.length,
        hasMore: page.HasMore,
        bytes: committed.bytes,
        rotations: output.rotations,
      };
      if (jsonLog) log.info('page written', fields);
      else
        log.progress(`${events} events in ${pages} pages → ${options.out} (${formatBytes(output.offset)})`);
      if (committed.rotated) log.info('output rotated', { rotations: output.rotations });
      if (page.HasMore) continue;
      if (options.once) break;
      await sleep(options.intervalMs);
    }
    log.info(options.once && !stopping ? 'caught up' : 'stopped', { events, pages });
    return 0;
  } catch (err) {
    if (err instanceof FeedRefusedError) {
      const message =
        err.code === 'invalid_cursor'
          ? `${err.message}. The cursor stored in ${options.state} was refused: it belongs to another ` +
            'installation or tenant, or the file was edited. Retrying cannot fix it. To start over from a point ' +
            `in time, move ${options.state} and ${options.out}* aside and run again with --since <the last ` +
            'Timestamp in your output>.'
          : err.message;
      log.error(message, { status: err.status });
      return 3;
    }
    if (err instanceof PullStateError) {
      log.error(err.message);
      return 1;
    }
    log.error(`siem pull failed: ${(err as Error).message}`);
    return 1;
  } finally {
    output?.close();
    release?.();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
