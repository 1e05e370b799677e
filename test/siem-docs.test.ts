/**
 * The SIEM guides under docs/siem/ are tested like code: every configuration file is parsed and what
 * it names (path, header and scheme, cursor and has-more fields, query parameters, page size,
 * envelope fields, file paths) is checked against a running portal, which is then polled the way the
 * configuration says; every `siem pull` command line in them parses; and every `sh` block marked
 * `<!-- test -->` in the guides, docs/troubleshooting.md and README.md runs against the portal.
 *
 * One store is enough here: the guides are about the HTTP contract, which the feed suites test on
 * both stores.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parsePullArgs } from '../src/cli/siem-pull.js';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import { buildKey, drain, http, login, type HttpResult } from './factories.js';
import { ADMIN, startServer, type TestServer } from './harness.js';
import { createTestDatabase, type TestDatabase } from './stores.js';

const ROOT = path.resolve('.');
const SIEM = path.join(ROOT, 'docs/siem');
const read = (rel: string) => fs.readFileSync(path.join(SIEM, rel), 'utf8');
const BIN = path.join(ROOT, 'bin/itportal.js');

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    return d.isDirectory() ? walk(full) : [full];
  });
}

/** `$.A.B` and `$.A[*]`: the JSONPath subset the SIEM configurations use. */
function jsonPath(value: unknown, expr: string): unknown {
  expect(expr, `JSONPath ${expr}`).toMatch(/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+(\[\*\])?$/);
  let v: any = value;
  for (const key of expr
    .replace(/\[\*\]$/, '')
    .slice(2)
    .split('.'))
    v = v?.[key];
  return v;
}

/** Whether a dotted path names a field of some event (the value may be null). */
function hasPath(events: Array<Record<string, any>>, dotted: string): boolean {
  return events.some((e) => {
    let v: any = e;
    for (const key of dotted.split('.')) {
      if (v === null || typeof v !== 'object' || !(key in v)) return false;
      v = v[key];
    }
    return true;
  });
}

/** Splunk-style .conf: `[stanza]` then `key = value`; `#` comments. */
function parseConf(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const stanza = /^\[(.+)\]$/.exec(line);
    if (stanza) {
      current = out[stanza[1]!] = {};
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    expect(kv, `not a key = value line: ${line}`).not.toBeNull();
    expect(current, `${line} outside a stanza`).not.toBeNull();
    current![kv![1]!] = kv![2]!;
  }
  return out;
}

/** The arguments after `siem pull` on each command line of a text, with variables given values. */
function pullCommandLines(text: string): string[][] {
  const joined = text.replace(/\\\n\s*/g, ' ');
  const vars: Record<string, string> = {
    ITPORTAL_URL: 'https://portal.example.com',
    ITPORTAL_KEY_FILE: '/etc/itportal-siem/siem.key',
    ITPORTAL_OUT_DIR: '/var/lib/itportal-siem',
  };
  const lines: string[][] = [];
  for (const line of joined.split('\n')) {
    const at = line.indexOf('siem pull ');
    if (at < 0 || line.trimStart().startsWith('#')) continue;
    const rest = line
      .slice(at + 'siem pull '.length)
      .replace(/\$\{?([A-Z_]+)\}?/g, (_m, v: string) => vars[v] ?? _m);
    const tokens = [...rest.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
    lines.push(tokens);
  }
  return lines;
}

/** Fenced blocks of a Markdown file. */
function fencedBlocks(text: string): Array<{ lang: string; code: string; tested: boolean }> {
  return [...text.matchAll(/(<!-- test -->\s*\n)?```(\w*)\n([\s\S]*?)\n```/g)].map((m) => ({
    tested: Boolean(m[1]),
    lang: m[2]!,
    code: m[3]!,
  }));
}

function strptimeToRegex(format: string): RegExp {
  const parts: Record<string, string> = {
    '%Y': '\\d{4}',
    '%m': '\\d{2}',
    '%d': '\\d{2}',
    '%H': '\\d{2}',
    '%M': '\\d{2}',
    '%S': '\\d{2}',
    '%3N': '\\d{3}',
  };
  let re = '';
  for (let i = 0; i < format.length;) {
    const token = Object.keys(parts).find((t) => format.startsWith(t, i));
    if (token) {
      re += parts[token];
      i += token.length;
    } else {
      expect(format[i], `unsupported strptime directive in ${format}`).not.toBe('%');
      re += format[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i += 1;
    }
  }
  return new RegExp(`^${re}$`);
}

describe('docs/siem against a running portal', () => {
  let testDb: TestDatabase;
  let server: TestServer;
  let key: string;
  let events: Array<Record<string, any>>;
  let openapi: any;
  const EVENT_TYPES = new Set<string>();

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    server = await startServer(testDb, { SIEM_RATE_LIMIT_PER_MINUTE: '100000' });
    const admin = await login(server);
    // Every kind of event the guides search for: logins, a failure, a logout, key changes (PolicyChange
    // of SiemKey), a denial, an object read and an admin action.
    await http(server, 'POST', '/api/auth/login', { body: { username: ADMIN.username, password: 'wrong' } });
    const other = await login(server);
    await http(server, 'POST', '/api/auth/logout', { cookie: other });
    const revoked = await buildKey(server, admin, { description: 'to revoke' });
    await http(server, 'DELETE', `/api/admin/siem/keys/${revoked.id}`, { cookie: admin });
    const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
    const actor = { userId: 1, username: 'alice', ip: '10.0.0.7', userAgent: 'docs-test' };
    await server.database.db.transaction().execute(async (trx) => {
      await appendEvent(trx, tenantId, { eventType: 'Access.Denied', outcome: 'denied', actor, target: { type: 'Route', name: '/api/admin/settings' }, details: { reason: 'admin_role_required' } }, Date.now()); // prettier-ignore
      await appendEvent(trx, tenantId, { eventType: 'Access.Object', outcome: 'success', actor, target: { type: 'Document', id: 7, name: 'Runbook' } }, Date.now()); // prettier-ignore
      await appendEvent(trx, tenantId, { eventType: 'AdminAction', outcome: 'success', actor, target: { type: 'User', id: 9, name: 'bob' }, details: { action: 'user.created' } }, Date.now()); // prettier-ignore
    });
    key = (await buildKey(server, admin, { description: 'docs test' })).key;
    events = (await drain(server, key)).events;
    for (const e of events) EVENT_TYPES.add(e.EventType);
    openapi = (await http(server, 'GET', '/openapi.json')).body;
  });
  afterAll(async () => {
    await server?.close();
    await testDb?.drop();
  });

  /** Names the live API accepts for the feed, from its own OpenAPI document. */
  function feedParameters(): string[] {
    const op = openapi.paths['/api/siem/events'].get;
    return op.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name as string);
  }

  it('the feed the guides rely on is what the live OpenAPI document describes', () => {
    expect(openapi.paths['/api/siem/events']?.get).toBeDefined();
    expect(feedParameters().sort()).toEqual(['cursor', 'eventType', 'format', 'limit', 'since']);
    expect(EVENT_TYPES).toEqual(
      new Set([
        'Login.Success',
        'Login.Failure',
        'Login.Logout',
        'PolicyChange',
        'Access.Denied',
        'Access.Object',
        'AdminAction',
      ]),
    );
  });

  it('Sentinel: the RestApiPoller connection names the live API, and paging it as configured yields every event', async () => {
    const dc = JSON.parse(read('sentinel/data-connector.json'));
    const p = dc.properties;
    expect(dc.kind).toBe('RestApiPoller');
    const endpoint = new URL(p.request.apiEndpoint);
    expect(endpoint.pathname).toBe('/api/siem/events');
    expect(p.request.httpMethod).toBe('GET');
    expect(p.auth.type).toBe('APIKey');
    // PersistentToken keeps the cursor across polling runs; NextPageToken would restart every run.
    expect(p.paging.pagingType).toBe('PersistentToken');
    expect(p.request.startTimeAttributeName).toBeUndefined();
    for (const name of [
      p.paging.nextPageParaName,
      p.paging.pageSizeParameterName,
      ...Object.keys(p.request.queryParameters ?? {}),
    ])
      expect(feedParameters()).toContain(name);
    expect(p.paging.pageSize).toBeGreaterThanOrEqual(1);
    expect(p.paging.pageSize).toBeLessThanOrEqual(5000);

    // Poll the way the CCF does: the configured header, page size, token parameter and JSON paths.
    const headers: Record<string, string> = {
      ...p.request.headers,
      [p.auth.ApiKeyName]: `${p.auth.ApiKeyIdentifier} ${key}`,
    };
    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100; page++) {
      const qs = new URLSearchParams({ ...p.request.queryParameters, [p.paging.pageSizeParameterName]: '2' });
      if (token) qs.set(p.paging.nextPageParaName, token);
      const res = await http(server, p.request.httpMethod, `${endpoint.pathname}?${qs}`, { headers });
      expect(res.status, res.text).toBe(200);
      for (const expr of p.response.eventsJsonPaths)
        seen.push(...(jsonPath(res.body, expr) as any[]).map((e) => e.Id));
      token = jsonPath(res.body, p.paging.nextPageTokenJsonPath) as string;
      expect(typeof token).toBe('string');
      const more = jsonPath(res.body, p.paging.hasNextFlagJsonPath);
      expect(typeof more).toBe('boolean');
      if (!more) break;
    }
    expect(seen).toEqual(events.map((e) => e.Id));
    expect(p.response.format).toBe('json');

    // The DCR's input stream is the envelope; the table holds what the transform outputs.
    const dcr = JSON.parse(read('sentinel/dcr.json'));
    const stream = dcr.properties.streamDeclarations[p.dcrConfig.streamName];
    expect(stream.columns.map((c: any) => c.name).sort()).toEqual(Object.keys(events[0]!).sort());
    const flow = dcr.properties.dataFlows[0];
    expect(flow.streams).toEqual([p.dcrConfig.streamName]);
    expect(flow.outputStream).toBe(`Custom-${p.dataType}`);
    const table = JSON.parse(read('sentinel/table.json'));
    expect(table.properties.schema.name).toBe(p.dataType);
    const tableColumns = table.properties.schema.columns.map((c: any) => c.name).sort();
    expect(tableColumns).toEqual(
      [...Object.keys(events[0]!).filter((k) => k !== 'Id'), 'EventId', 'TimeGenerated'].sort(),
    );
  });

  it('Elastic: the CEL input names the live API, and following its program yields every event', async () => {
    const config = YAML.parse(read('elastic/cel-input.yml'));
    const input = config['filebeat.inputs'][0];
    expect(input.type).toBe('cel');
    const url = new URL(input['resource.url']);
    expect(url.pathname).toBe('/api/siem/events');
    const program: string = input.program;
    expect(program).toMatch(/"Authorization":\s*\["ApiKey " \+ state\.api_key\]/);
    expect(input.state.api_key).toBe('${ITPORTAL_SIEM_KEY}');
    expect(input.redact.fields).toContain('api_key');
    const requestPart = program.slice(0, program.indexOf('.format_query()'));
    const params = new Set([...requestPart.matchAll(/"(\w+)":\s*\[/g)].map((m) => m[1]!));
    expect([...params].sort()).toEqual(['cursor', 'limit', 'since']);
    for (const name of params) expect(feedParameters()).toContain(name);
    const bodyFields = new Set([...program.matchAll(/body\.(\w+)/g)].map((m) => m[1]!));
    expect([...bodyFields].sort()).toEqual(['Events', 'HasMore', 'NextCursor']);
    expect(program).toMatch(/"cursor":\s*\{"next":\s*body\.NextCursor\}/);
    expect(program).toMatch(/"want_more":\s*body\.HasMore/);
    expect(program).toMatch(/state\.cursor\.next/);
    expect(input.state.limit).toBeGreaterThanOrEqual(1);
    expect(input.state.limit).toBeLessThanOrEqual(5000);

    // The program's walk: since + limit first, then cursor + limit while HasMore.
    const auth = { authorization: `ApiKey ${key}` };
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let run = 0; run < 100; run++) {
      const qs: URLSearchParams = new URLSearchParams(
        cursor ? { cursor, limit: '3' } : { since: String(input.state.initial_since), limit: '3' },
      );
      const res: HttpResult = await http(server, 'GET', `${url.pathname}?${qs}`, { headers: auth });
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.Events.map((e: any) => e.Id));
      cursor = res.body.NextCursor;
      if (!res.body.HasMore) break;
    }
    expect(seen).toEqual(events.map((e) => e.Id));
    expect(
      (await http(server, 'GET', `${url.pathname}?limit=${input.state.limit}`, { headers: auth })).status,
    ).toBe(200);

    // The ingest pipeline reads only fields the envelope has.
    const pipeline = read('elastic/ingest-pipeline.json');
    JSON.parse(pipeline);
    const fields = new Set([...pipeline.matchAll(/itportal\.([A-Z][A-Za-z.]*[A-Za-z])/g)].map((m) => m[1]!));
    for (const m of pipeline.matchAll(/\bp\.([A-Z]\w*)/g)) fields.add(m[1]!);
    expect(fields.size).toBeGreaterThan(8);
    for (const f of fields) expect(hasPath(events, f), `itportal.${f}`).toBe(true);
    for (const m of pipeline.matchAll(/p\.EventType == '([^']+)'/g)) expect(EVENT_TYPES).toContain(m[1]);
  });

  it('Splunk: the inputs monitor what the script writes, and props, event types and tags name envelope fields', () => {
    const inputs = parseConf(read('splunk/inputs.conf'));
    const script = Object.keys(inputs).find((s) => s.startsWith('script://'))!;
    expect(script).toBe('script://./bin/itportal-pull.sh');
    const scriptFile = path.join(SIEM, 'splunk/bin/itportal-pull.sh');
    expect(fs.statSync(scriptFile).mode & 0o111).not.toBe(0);
    expect(Number(inputs[script]!.interval)).toBeGreaterThanOrEqual(60);
    const monitor = Object.keys(inputs).find((s) => s.startsWith('monitor://'))!;
    const monitoredDir = monitor.slice('monitor://'.length);
    const scriptText = read('splunk/bin/itportal-pull.sh');
    expect(scriptText).toContain(`ITPORTAL_OUT_DIR:-${monitoredDir}}`);
    const [args] = pullCommandLines(scriptText);
    expect(parsePullArgs(args!).out).toBe(`${monitoredDir}/events.ndjson`);
    const whitelist = new RegExp(inputs[monitor]!.whitelist!);
    for (const name of ['events.ndjson', 'events.ndjson.1', 'events.ndjson.27'])
      expect(name).toMatch(whitelist);
    for (const name of [
      'events.ndjson.state.json',
      'events.ndjson.state.json.tmp',
      'events.ndjson.state.json.lock',
    ])
      expect(name).not.toMatch(whitelist);
    expect(inputs[monitor]!.crcSalt).toBeUndefined();

    const props = parseConf(read('splunk/props.conf'))[inputs[monitor]!.sourcetype!]!;
    expect(props).toBeDefined();
    expect(props.INDEXED_EXTRACTIONS).toBe('json');
    expect(hasPath(events, props.TIMESTAMP_FIELDS!)).toBe(true);
    const timeFormat = strptimeToRegex(props.TIME_FORMAT!);
    for (const e of events) expect(e.Timestamp).toMatch(timeFormat);
    for (const [k, v] of Object.entries(props)) {
      if (k.startsWith('FIELDALIAS-')) {
        const source = /^"?([\w.]+)"?\s+AS\s+\w+$/.exec(v);
        expect(source, v).not.toBeNull();
        expect(hasPath(events, source![1]!), v).toBe(true);
      }
      if (k.startsWith('EVAL-')) {
        for (const m of v.matchAll(/'([\w.]+)'/g)) expect(hasPath(events, m[1]!), v).toBe(true);
        for (const m of v.matchAll(/(EventType|Category|Outcome)=="([^"]+)"/g)) {
          expect(
            events.map((e) => e[m[1]!]),
            v,
          ).toContain(m[2]);
        }
      }
    }
    const eventtypes = parseConf(read('splunk/eventtypes.conf'));
    for (const { search } of Object.values(eventtypes)) {
      expect(search).toContain(`sourcetype=${inputs[monitor]!.sourcetype}`);
      for (const m of search!.matchAll(/Category=(\w+)/g))
        expect(events.map((e) => e.Category)).toContain(m[1]);
    }
    const tags = parseConf(read('splunk/tags.conf'));
    for (const stanza of Object.keys(tags))
      expect(Object.keys(eventtypes)).toContain(stanza.replace('eventtype=', ''));
  });

  it('Wazuh: the agent reads what the service writes, and the rules name envelope fields and live EventTypes', () => {
    const service = read('itportal-siem-pull.service');
    const [serviceArgs] = pullCommandLines(service.split('\n').find((l) => l.startsWith('ExecStart='))!);
    const out = parsePullArgs(serviceArgs!).out;
    const agent = read('wazuh/ossec.conf.xml');
    expect(agent).toMatch(/<log_format>json<\/log_format>/);
    expect(/<location>([^<]+)<\/location>/.exec(agent)?.[1]).toBe(out);
    const rules = read('wazuh/local_rules.xml');
    expect(rules.match(/<rule /g)?.length).toBe(rules.match(/<\/rule>/g)?.length);
    const ids = [...rules.matchAll(/<rule id="(\d+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    const fields = [
      ...[...rules.matchAll(/<field name="([\w.]+)"/g)].map((m) => m[1]!),
      ...[...rules.matchAll(/\$\(([\w.]+)\)/g)].map((m) => m[1]!),
      ...[...rules.matchAll(/<same_field>([\w.]+)<\/same_field>/g)].map((m) => m[1]!),
    ];
    for (const f of fields) expect(hasPath(events, f), f).toBe(true);
    for (const m of rules.matchAll(/<field name="EventType" type="pcre2">(\^[^<]+\$)<\/field>/g)) {
      const re = new RegExp(m[1]!);
      expect(
        [...EVENT_TYPES].some((t) => re.test(t)),
        m[1],
      ).toBe(true);
    }
    for (const m of rules.matchAll(/<field name="Target.Type" type="pcre2">\^(\w+)\$<\/field>/g)) {
      expect(events.map((e) => e.Target.Type)).toContain(m[1]);
    }
    const base = /<field name="SourceTable" type="pcre2">([^<]+)<\/field>/.exec(rules)![1]!;
    for (const e of events) expect(e.SourceTable).toMatch(new RegExp(base));
  });

  it('QRadar: rsyslog reads what the service writes, and every JSON expression names an envelope field', () => {
    const service = read('itportal-siem-pull.service');
    const [serviceArgs] = pullCommandLines(service.split('\n').find((l) => l.startsWith('ExecStart='))!);
    const rsyslog = read('qradar/rsyslog-itportal.conf');
    expect(/File="([^"]+)"/.exec(rsyslog)?.[1]).toBe(parsePullArgs(serviceArgs!).out);
    expect(rsyslog).toMatch(/template="itportal-rfc5424"/);
    const guide = read('qradar/README.md');
    const expressions = [...guide.matchAll(/`(\/"[^`]+")`/g)].map((m) => m[1]!);
    expect(expressions.length).toBeGreaterThan(8);
    for (const expr of expressions) {
      const dotted = [...expr.matchAll(/"(\w+)"/g)].map((m) => m[1]).join('.');
      expect(hasPath(events, dotted), expr).toBe(true);
    }
  });

  it('every siem pull command line in the guides parses, and the guides link to files that exist', () => {
    let count = 0;
    for (const file of [
      ...walk(SIEM),
      path.join(ROOT, 'docs/troubleshooting.md'),
      path.join(ROOT, 'README.md'),
    ]) {
      const text = fs.readFileSync(file, 'utf8');
      const sources = file.endsWith('.md') ? fencedBlocks(text).map((b) => b.code) : [text];
      for (const source of sources) {
        for (const args of pullCommandLines(source)) {
          count += 1;
          expect(
            () => parsePullArgs(args),
            `${path.relative(ROOT, file)}: siem pull ${args.join(' ')}`,
          ).not.toThrow();
        }
      }
      if (file.endsWith('.md')) {
        for (const m of text.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
          expect(fs.existsSync(path.resolve(path.dirname(file), m[1]!)), `${file} links to ${m[1]}`).toBe(
            true,
          );
        }
      }
    }
    expect(count).toBeGreaterThanOrEqual(5);
    for (const vendor of ['splunk', 'sentinel', 'elastic', 'wazuh', 'qradar']) {
      expect(fs.existsSync(path.join(SIEM, vendor, 'README.md'))).toBe(true);
      expect(fs.readdirSync(path.join(SIEM, vendor)).length).toBeGreaterThan(1);
    }
  });

  it('runs every command block marked <!-- test --> in the guides, troubleshooting and the README', async () => {
    const files = [
      ...walk(SIEM).filter((f) => f.endsWith('.md')),
      path.join(ROOT, 'docs/troubleshooting.md'),
      path.join(ROOT, 'README.md'),
    ];
    const blocks = files.flatMap((file) =>
      fencedBlocks(fs.readFileSync(file, 'utf8'))
        .filter((b) => b.tested)
        .map((b) => ({ file: path.relative(ROOT, file), ...b })),
    );
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.map((b) => b.file)).toContain('README.md');
    const { ITPORTAL_SIEM_KEY: _k, ...baseEnv } = process.env;
    for (const block of blocks) {
      expect(block.lang, block.file).toBe('sh');
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-docs-'));
      fs.writeFileSync(path.join(cwd, 'itportal.key'), `${key}\n`, { mode: 0o600 });
      for (const dir of ['bin', 'docs']) fs.symlinkSync(path.join(ROOT, dir), path.join(cwd, dir));
      // `itportal` (and `npx itportal`) is this checkout's command; localhost:8080 is the test's portal.
      const prelude = [
        `itportal() { node ${JSON.stringify(BIN)} "$@"; }`,
        `npx() { if [ "$1" = itportal ]; then shift; itportal "$@"; else command npx "$@"; fi; }`,
        'set -euo pipefail',
      ].join('\n');
      const code = block.code.replaceAll('http://localhost:8080', server.url);
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          'bash',
          ['-c', `${prelude}\n${code}`],
          {
            cwd,
            timeout: 30_000,
            env: {
              ...baseEnv,
              ITPORTAL_URL: server.url,
              ITPORTAL_SIEM_KEY: key,
              KEY: key,
              ITPORTAL_CMD: `node ${BIN}`,
            },
          },
          (err, stdout, stderr) =>
            resolve({
              code: err ? ((err as any).code ?? 1) : 0,
              stdout: String(stdout),
              stderr: String(stderr),
            }),
        ),
      );
      expect(result.code, `${block.file}:\n${block.code}\n--- stderr:\n${result.stderr}`).toBe(0);
      expect(result.stdout.length + result.stderr.length, block.file).toBeGreaterThan(0);
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
