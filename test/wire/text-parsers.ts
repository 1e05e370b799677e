/**
 * The real parsers the text formats are tested with, run as they are: Debian's liblognorm
 * (`lognormalizer`, CEF), the npm `nsyslog-parser` (CEF, RFC 5424) and Debian's rsyslog (RFC 5424, a
 * private daemon on a loopback port). A missing peer FAILS the test with its install command: these
 * tests never skip.
 *
 * Known bugs of the peers, which the tests expect rather than work around in our output:
 * - liblognorm 2.0.6 drops the first character of the first extension key unless a space precedes it
 *   (`rt=` comes back as `t`): `lognormalizeCef` puts the key back, and only when it is so cut.
 * - nsyslog-parser splits the CEF extension at spaces and starts a new key at any word holding `=`,
 *   escaped or not, so a value is cut at its first word with an escaped `\=`; it also leaves the
 *   escapes in place. `nsyslogCefValue` models that cut, and the tests unescape themselves.
 * - nsyslog-parser reads SD-PARAM values up to the next `"`, escaped or not: a record whose values
 *   hold `\"` gets no structuredData at all (its header fields and MSG still parse).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const INSTALL = 'apt-get install -y liblognorm-utils rsyslog';

export function requireBinary(name: string, paths: string[]): string {
  for (const p of paths) {
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  throw new Error(`${name} is not installed (looked in ${paths.join(', ')}): run \`${INSTALL}\``);
}

export function lognormalizerPath(): string {
  return requireBinary('lognormalizer', ['/usr/bin/lognormalizer', '/usr/local/bin/lognormalizer']);
}

export function rsyslogdPath(): string {
  return requireBinary('rsyslogd', ['/usr/sbin/rsyslogd', '/usr/local/sbin/rsyslogd']);
}

function run(
  cmd: string,
  args: string[],
  input: string,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    // A program that does not read its input (rsyslogd -N1 checks a configuration file) may exit before
    // the input is written: the write then fails with EPIPE, which is no result of its own. What the
    // caller checks is the exit code and output above; any other write error still fails the run.
    child.stdin.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') reject(e);
    });
    child.stdin.end(input);
  });
}

export interface LognormCef {
  DeviceVendor: string;
  DeviceProduct: string;
  DeviceVersion: string;
  SignatureID: string;
  Name: string;
  Severity: string;
  Extensions: Record<string, string>;
}

/** Each CEF line through `lognormalizer` with the rulebase `rule=:%f:cef%`, one JSON per line. */
export async function lognormalizeCef(lines: string[], firstKey = 'rt'): Promise<LognormCef[]> {
  const bin = lognormalizerPath();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-lognorm-'));
  try {
    const rulebase = path.join(dir, 'cef.rb');
    await fs.writeFile(rulebase, 'rule=:%f:cef%\n');
    for (const line of lines) if (/[\r\n]/.test(line)) throw new Error('a CEF record spans lines');
    const { code, out, err } = await run(bin, ['-r', rulebase, '-e', 'json'], lines.join('\n') + '\n');
    if (code !== 0) throw new Error(`lognormalizer exited ${code}: ${err}`);
    const rows = out.trim().split('\n');
    if (rows.length !== lines.length) throw new Error(`lognormalizer gave ${rows.length} rows`);
    return rows.map((row) => {
      const parsed = JSON.parse(row) as { f?: LognormCef; unparsed?: unknown };
      if (!parsed.f) throw new Error(`lognormalizer could not parse: ${row}`);
      // liblognorm 2.0.6: the first extension key loses its first character (no space before it).
      const ext = parsed.f.Extensions;
      const cut = firstKey.slice(1);
      if (!(firstKey in ext) && cut in ext) {
        parsed.f.Extensions = Object.fromEntries(
          Object.entries(ext).map(([k, v]) => [k === cut ? firstKey : k, v]),
        );
      }
      return parsed.f;
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export interface NsyslogEntry {
  err?: unknown;
  type?: string;
  prival?: number;
  facilityval?: number;
  levelval?: number;
  version?: number;
  ts?: Date;
  host?: string;
  appName?: string;
  pid?: string;
  messageid?: string;
  message: string;
  structuredData?: Array<Record<string, string>>;
  cef?: Record<string, string>;
  fields?: Record<string, string>;
}

const nsyslog = createRequire(import.meta.url)('nsyslog-parser') as (line: string) => NsyslogEntry;

export function nsyslogParse(line: string): NsyslogEntry {
  const entry = nsyslog(line);
  if (entry.err) throw new Error(`nsyslog-parser failed: ${String(entry.err)}`);
  return entry;
}

/** What nsyslog-parser returns for an escaped CEF value: cut at the first word holding `=`. */
export function nsyslogCefValue(escaped: string): string {
  const words = escaped.split(' ');
  const kept = [words[0]!.split('=')[0]!];
  for (const w of words.slice(1)) {
    if (w.includes('=')) break;
    kept.push(w);
  }
  return kept.join(' ');
}

/** The CEF extension escapes undone (`\\`, `\=`, `\n`, `\r`), for parsers that leave them. */
export function unescapeCefValue(value: string): string {
  return value.replace(/\\([\\=nr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A private rsyslogd's configuration: imtcp on loopback, mmpstrucdata, every field to a JSON line. */
export function rsyslogConfig(dir: string, port: number): string {
  const prop = (out: string, name: string, extra = '') =>
    `  property(outname="${out}" name="${name}" format="jsonf"${extra})`;
  return [
    `global(workDirectory="${dir}")`,
    'module(load="imtcp")',
    'module(load="mmpstrucdata")',
    'template(name="itpFields" type="list" option.jsonf="on") {',
    prop('pri', 'pri'),
    prop('timestamp', 'timereported', ' dateFormat="rfc3339"'),
    prop('hostname', 'hostname'),
    prop('appname', 'app-name'),
    prop('procid', 'procid'),
    prop('msgid', 'msgid'),
    prop('sd', 'structured-data'),
    prop('msg', 'msg'),
    prop('parsed', '$!rfc5424-sd'),
    '}',
    'ruleset(name="itpIn") {',
    '  action(type="mmpstrucdata" sd_name.lowercase="off")',
    `  action(type="omfile" file="${dir}/received.jsonl" template="itpFields")`,
    '}',
    `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="itpIn")`,
    '',
  ].join('\n');
}

/** `rsyslogd -N1 -f <conf>`: rsyslog's own check of a configuration. */
export async function rsyslogCheck(conf: string): Promise<{ code: number; out: string }> {
  const { code, out, err } = await run(rsyslogdPath(), ['-N1', '-f', conf], '');
  return { code, out: out + err };
}

export interface RsyslogRecord {
  pri: string;
  timestamp: string;
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
  /** mmpstrucdata's parse of the structured data: SD-ID → PARAM-NAME → value. */
  parsed: Record<string, Record<string, string>>;
}

/**
 * Starts a private rsyslogd (its config, pid file and work directory in a temp dir; imtcp on a free
 * loopback port), sends the records with RFC 6587 octet-counting framing, waits until all came back
 * in the output file, kills the daemon and returns what it parsed.
 */
export async function rsyslogReceive(records: string[], timeoutMs = 20_000): Promise<RsyslogRecord[]> {
  const bin = rsyslogdPath();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-rsyslog-'));
  const port = await freePort();
  const conf = path.join(dir, 'rsyslog.conf');
  await fs.writeFile(conf, rsyslogConfig(dir, port));
  const check = await rsyslogCheck(conf);
  if (check.code !== 0) throw new Error(`rsyslogd -N1 refused the config: ${check.out}`);
  let log = '';
  const daemon = spawn(bin, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout.setEncoding('utf8').on('data', (c: string) => (log += c));
  daemon.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + timeoutMs;
    let socket: net.Socket | undefined;
    while (!socket) {
      try {
        socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        });
      } catch (err) {
        if (Date.now() > deadline || daemon.exitCode !== null) {
          throw new Error(`rsyslogd did not listen on ${port}: ${String(err)} ${log}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const record of records) {
      const bytes = Buffer.from(record, 'utf8');
      socket.write(`${bytes.length} `);
      socket.write(bytes);
    }
    await new Promise<void>((resolve) => socket.end(resolve));
    const file = path.join(dir, 'received.jsonl');
    for (;;) {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      const rows = text.split('\n').filter(Boolean);
      if (rows.length >= records.length) {
        return rows.map((row) => {
          const r = JSON.parse(row) as Omit<RsyslogRecord, 'parsed'> & { parsed: string };
          return { ...r, parsed: r.parsed ? JSON.parse(r.parsed) : {} };
        });
      }
      if (Date.now() > deadline) {
        throw new Error(`rsyslogd wrote ${rows.length} of ${records.length} records: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    if (daemon.exitCode === null) daemon.kill('SIGTERM');
    await exited;
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * MSG of an RFC 5424 record as nsyslog-parser returns it: its message alone when it could read the
 * structured data, else the structured data and MSG, which our SD-ELEMENT ends with `"] ` (inside a
 * PARAM-VALUE a `"` or `]` is always escaped, so that sequence first appears where the SD ends).
 */
export function nsyslogMsg(entry: NsyslogEntry): string {
  if (entry.structuredData?.length) return entry.message;
  return entry.message.slice(entry.message.indexOf('"] ') + 3);
}
