/**
 * The SIEM guides under docs/siem/ are tested like code: every configuration file is parsed (JSON,
 * YAML, .conf, CSV, XML with a real parser, rsyslog's own validator) and what it names (path, header
 * and scheme, cursor and has-more fields, query parameters, page size, envelope fields, event types,
 * file paths) is checked against a running portal, which is then polled the way the configuration
 * says; every `siem pull` command line in them parses; and every `sh` block of the guides,
 * docs/troubleshooting.md and README.md runs, page by page in a clean environment, unless a
 * `<!-- not run: why -->` line stands right above it.
 *
 * One store is enough here: the guides are about the HTTP contract, which the feed suites test on
 * both stores.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parsePullArgs } from '../src/cli/siem-pull.js';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import { EVENT_TYPE_LIST, OUTCOMES } from '../src/modules/audit/event-types.js';
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
    const stanza = /^\[(.*)\]$/.exec(line);
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
    ITPORTAL_URL: 'https://portal.test',
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

interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
}

/**
 * Parses XML with a real parser (Python's expat, in Debian's python3; no XML parser is among the
 * project's packages). `wrap` puts several top-level elements under one root, as Wazuh's rule loader
 * accepts them.
 */
function parseXml(text: string, wrap = false): XmlNode {
  const program = [
    'import json, sys, xml.etree.ElementTree as ET',
    'def n(e): return {"tag": e.tag, "attrs": dict(e.attrib), "text": (e.text or "").strip(), "children": [n(c) for c in e]}',
    'src = sys.stdin.read()',
    'if sys.argv[1] == "wrap": src = "<root>" + src + "</root>"',
    'print(json.dumps(n(ET.fromstring(src))))',
  ].join('\n');
  const out = execFileSync('/usr/bin/python3', ['-c', program, wrap ? 'wrap' : 'plain'], { input: text });
  return JSON.parse(String(out)) as XmlNode;
}

function xmlAll(node: XmlNode, tag: string): XmlNode[] {
  return [...(node.tag === tag ? [node] : []), ...node.children.flatMap((c) => xmlAll(c, tag))];
}

function fieldValue(event: Record<string, any>, dotted: string): unknown {
  let v: any = event;
  for (const k of dotted.split('.')) v = v?.[k];
  return v;
}

/** The pages whose `sh` blocks must run: the README, every guide, troubleshooting. */
function docPages(): string[] {
  return [
    'README.md',
    ...walk(SIEM)
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.relative(ROOT, f))
      .sort(),
    'docs/troubleshooting.md',
  ];
}

interface DocBlock {
  page: string;
  lang: string;
  code: string;
  /** The reason given by `<!-- not run: … -->` right above the block, or null. */
  notRun: string | null;
}

/** Fenced blocks of a Markdown page (indented ones in lists too), with the marker right above each. */
function markdownBlocks(text: string, page = ''): DocBlock[] {
  return [...text.matchAll(/^( *)```([\w-]*)\n([\s\S]*?)\n\1```$/gm)].map((m) => {
    const before = text.slice(0, m.index).trimEnd();
    // The marker is the last line above the block (indented like it, in a list).
    const marker = /^<!-- not run: (.+) -->$/.exec(before.slice(before.lastIndexOf('\n') + 1).trim());
    const code = m[3]!
      .split('\n')
      .map((l) => l.slice(m[1]!.length))
      .join('\n');
    return { page, lang: m[2]!, code, notRun: marker ? marker[1]!.trim() : null };
  });
}

/** The `sh` blocks of a page that run, in page order. */
function runnable(page: string): DocBlock[] {
  return markdownBlocks(fs.readFileSync(path.join(ROOT, page), 'utf8'), page).filter(
    (b) => b.lang === 'sh' && b.notRun === null,
  );
}

/** The blocks of the pages a page names with `<!-- docs-test: after <page> -->`, which the reader did first. */
function prerequisites(page: string): DocBlock[] {
  const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
  return [...text.matchAll(/^<!-- docs-test: after (\S+) -->$/gm)].flatMap((m) => {
    expect(fs.existsSync(path.join(ROOT, m[1]!)), `${page} runs after ${m[1]}`).toBe(true);
    return [...prerequisites(m[1]!), ...runnable(m[1]!)];
  });
}

function run(
  cmd: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string; input?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: options.env, cwd: options.cwd, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? Number((err as any).code ?? 1) || 1 : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    );
    child.stdin!.end(options.input ?? '');
  });
}

/**
 * Runs blocks as a reader pastes them into one bash, in a clean environment: PATH of the system only
 * (no node_modules/.bin, so `itportal` is "not found" until a block installs it), a new empty HOME,
 * the current directory a copy of a built checkout (its SQLite data directory the test portal's, so
 * the README's `node bin/itportal.js siem-key issue` issues a key the portal knows), and nothing else.
 * What the reader types: the key at each `read` prompt, and their portal's address for
 * http://localhost:8080. `set -eu -o pipefail`: a failing command or an unset variable stops the run.
 */
async function runPage(blocks: DocBlock[], key: string, url: string, dataDir: string) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-docs-'));
  const home = path.join(tmp, 'home');
  const checkout = path.join(tmp, 'checkout');
  fs.mkdirSync(home);
  fs.mkdirSync(checkout);
  for (const entry of ['bin', 'dist', 'docs', 'node_modules', 'package.json'])
    fs.symlinkSync(path.join(ROOT, entry), path.join(checkout, entry));
  fs.symlinkSync(dataDir, path.join(checkout, 'data'));
  const script = [
    'set -eu -o pipefail',
    ...blocks.map((b, i) => `echo "@@block ${i}" >&2\n${b.code.replaceAll('http://localhost:8080', url)}`),
  ].join('\n');
  const reads = blocks.reduce((n, b) => n + (b.code.match(/\bread\b/g)?.length ?? 0), 0);
  try {
    return await run('bash', ['-c', script], {
      cwd: checkout,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home },
      input: `${key}\n`.repeat(reads),
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

describe('docs/siem against a running portal', () => {
  let testDb: TestDatabase;
  let server: TestServer;
  let key: string;
  let events: Array<Record<string, any>>;
  /** Poll records, which the feed gives only when asked for by name. */
  let pollEvents: Array<Record<string, any>>;
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
    pollEvents = (await drain(server, key, { eventType: 'Audit.SiemPoll' })).events;
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
    // The portal is a parameter the connector page asks for, never a hard-coded host.
    const endpointExpr = /^\[\[concat\(parameters\('(\w+)'\), '(\/[^']+)'\)\]$/.exec(p.request.apiEndpoint);
    expect(endpointExpr, p.request.apiEndpoint).not.toBeNull();
    const endpoint = new URL(endpointExpr![2]!, server.url);
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

  it('Sentinel: the connector definition the connection names exists, and asks for every parameter the connection uses', () => {
    const dc = JSON.parse(read('sentinel/data-connector.json'));
    const def = JSON.parse(read('sentinel/connector-definition.json'));
    expect(def.kind).toBe('Customizable');
    expect(def.name).toBe(dc.properties.connectorDefinitionName);
    const ui = def.properties.connectorUiConfig;
    expect(ui.id).toBe(dc.properties.connectorDefinitionName);
    for (const k of [
      'title',
      'publisher',
      'descriptionMarkdown',
      'graphQueries',
      'dataTypes',
      'connectivityCriteria',
      'permissions',
      'instructionSteps',
    ])
      expect(ui[k], k).toBeTruthy();
    expect(ui.graphQueriesTableName).toBe(dc.properties.dataType);
    expect(def.properties.connectionsConfig.templateSpecName).toBeTruthy();
    const instructions = ui.instructionSteps.flatMap((s: any) => s.instructions);
    const textboxes = new Map<string, any>(
      instructions
        .filter((i: any) => i.type === 'Textbox')
        .map((i: any) => [i.parameters.name, i.parameters]),
    );
    expect(instructions.some((i: any) => i.type === 'ConnectionToggleButton')).toBe(true);
    const used = new Set([...JSON.stringify(dc).matchAll(/parameters\('(\w+)'\)/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual(['apiKey', 'portalUrl']);
    for (const name of used) expect(textboxes.has(name), `a Textbox named ${name}`).toBe(true);
    expect(textboxes.get('apiKey').type).toBe('password');
    for (const file of walk(path.join(SIEM, 'sentinel')))
      expect(fs.readFileSync(file, 'utf8')).not.toMatch(/portal\.example\.com/);
  });

  it('Sentinel: the solution template deploys table, DCR, definition and connection together, as the four files say', () => {
    const tpl = JSON.parse(read('sentinel/connector-solution.json'));
    const byType = (t: string) => tpl.resources.find((r: any) => r.type === t);
    const table = JSON.parse(read('sentinel/table.json'));
    const dcr = JSON.parse(read('sentinel/dcr.json'));
    const def = JSON.parse(read('sentinel/connector-definition.json'));
    const dc = JSON.parse(read('sentinel/data-connector.json'));
    expect(byType('Microsoft.OperationalInsights/workspaces/tables').properties).toEqual(table.properties);
    const rule = byType('Microsoft.Insights/dataCollectionRules');
    expect(rule.properties.streamDeclarations).toEqual(dcr.properties.streamDeclarations);
    expect(rule.properties.dataFlows).toEqual(dcr.properties.dataFlows);
    const definition = byType('Microsoft.OperationalInsights/workspaces/providers/dataConnectorDefinitions');
    expect(definition.kind).toBe(def.kind);
    expect(definition.properties).toEqual(def.properties);
    expect(definition.name).toContain(`'${dc.properties.connectorDefinitionName}'`);
    const connection = byType('Microsoft.OperationalInsights/workspaces/providers/dataConnectors');
    expect(connection.kind).toBe('RestApiPoller');
    // The connection as data-connector.json has it, its [[parameters()] now evaluated here, and the
    // DCR's ids taken from the deployed resources instead of typed in.
    const expected = JSON.parse(JSON.stringify(dc.properties).replaceAll('[[', '['));
    expected.dcrConfig = connection.properties.dcrConfig;
    expect(connection.properties).toEqual(expected);
    expect(connection.properties.dcrConfig.dataCollectionRuleImmutableId).toMatch(
      /^\[reference\(.*\)\.immutableId\]$/,
    );
    expect(connection.properties.dcrConfig.streamName).toBe(dc.properties.dcrConfig.streamName);
    expect(connection.dependsOn.length).toBe(2);
    for (const m of JSON.stringify(tpl.resources).matchAll(/parameters\('(\w+)'\)/g))
      expect(tpl.parameters[m[1]!], m[1]).toBeDefined();
    expect(tpl.parameters.apiKey.type).toBe('securestring');
    expect(tpl.parameters.portalUrl.defaultValue).toBeUndefined();
  });

  it('Sentinel: the Logic App polls every 10 minutes, keeps lastCursor, loops while HasMore, and its walk yields every event', async () => {
    const template = JSON.parse(read('sentinel/logic-app.json'));
    expect(template.$schema).toMatch(/deploymentTemplate\.json#$/);
    const workflow = template.resources.find((r: any) => r.type === 'Microsoft.Logic/workflows');
    expect(workflow.identity.type).toBe('SystemAssigned');
    // The portal and the key are parameters without a default: nothing points at a made-up host.
    expect(template.parameters.portalUrl.defaultValue).toBeUndefined();
    expect(JSON.stringify(template)).not.toMatch(/example\.com"|itp_siem_[0-9a-f]/);
    const def = workflow.properties.definition;
    for (const name of Object.keys(def.parameters)) {
      expect(workflow.properties.parameters[name]?.value).toBe(`[parameters('${name}')]`);
      expect(template.parameters[name], name).toBeDefined();
    }
    const [trigger] = Object.values<any>(def.triggers);
    expect(trigger.type).toBe('Recurrence');
    expect(trigger.recurrence).toEqual({ frequency: 'Minute', interval: 10 });
    expect(trigger.runtimeConfiguration.concurrency.runs).toBe(1);

    const a = def.actions;
    // The key comes from Key Vault with the workflow's identity, and neither it nor the poll's
    // headers are kept in the run history.
    expect(a.Get_key.inputs.uri).toMatch(/vault\.azure\.net\/secrets\//);
    expect(a.Get_key.inputs.authentication.type).toBe('ManagedServiceIdentity');
    expect(a.Get_key.runtimeConfiguration.secureData.properties).toEqual(['inputs', 'outputs']);
    const loop = a.Until_caught_up;
    expect(loop.type).toBe('Until');
    expect(loop.expression).toBe("@equals(variables('hasMore'), false)");
    const poll = loop.actions.Poll;
    expect(poll.inputs.method).toBe('GET');
    expect(poll.inputs.headers.Authorization).toBe("ApiKey @{body('Get_key')?['value']}");
    expect(poll.runtimeConfiguration.secureData.properties).toContain('inputs');
    const uri: string = poll.inputs.uri;
    expect(uri).toContain("parameters('portalUrl'), '/api/siem/events?");
    const params = [...uri.matchAll(/[?&](\w+)=/g)].map((m) => m[1]!);
    expect(params.sort()).toEqual(['cursor', 'limit']);
    for (const name of params) expect(feedParameters()).toContain(name);
    expect(uri).toContain("encodeUriComponent(variables('lastCursor'))");
    // lastCursor: read before the loop (a missing blob starts from the beginning, any other failure
    // stops the run), written back after each page reached the DCR, then carried to the next poll.
    expect(a.Read_cursor.inputs.uri).toBe(loop.actions.Write_lastCursor.inputs.uri);
    expect(a.Init_lastCursor.inputs.variables[0].name).toBe('lastCursor');
    expect(a.Stop_unless_no_state_yet.runAfter.Read_cursor).toContain('Failed');
    expect(JSON.stringify(a.Stop_unless_no_state_yet.expression)).toContain('404');
    expect(loop.actions.Send_to_DCR.inputs.body).toBe("@body('Poll')?['Events']");
    expect(loop.actions.Send_to_DCR.inputs.uri).toContain("'/streams/', parameters('streamName')");
    expect(template.parameters.streamName.defaultValue).toBe(
      JSON.parse(read('sentinel/data-connector.json')).properties.dcrConfig.streamName,
    );
    expect(loop.actions.Write_lastCursor.runAfter).toEqual({ Send_to_DCR: ['Succeeded'] });
    expect(loop.actions.Write_lastCursor.inputs.body).toBe("@{body('Poll')?['NextCursor']}");
    expect(loop.actions.Set_lastCursor.inputs).toEqual({
      name: 'lastCursor',
      value: "@{body('Poll')?['NextCursor']}",
    });
    expect(loop.actions.Set_hasMore.inputs).toEqual({ name: 'hasMore', value: "@body('Poll')?['HasMore']" });

    // The walk the workflow makes, against the live feed: limit=pageSize, then the cursor while HasMore.
    const stored: { cursor: string } = { cursor: '' };
    const seen: string[] = [];
    for (let run = 0; run < 100; run++) {
      const qs = new URLSearchParams({ limit: '2', ...(stored.cursor ? { cursor: stored.cursor } : {}) });
      const res = await http(server, 'GET', `/api/siem/events?${qs}`, {
        headers: { authorization: `ApiKey ${key}` },
      });
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.Events.map((e: any) => e.Id));
      stored.cursor = res.body.NextCursor;
      if (!res.body.HasMore) break;
    }
    expect(seen.slice(0, events.length)).toEqual(events.map((e) => e.Id));
  });

  it('Elastic: the CEL input names the live API, and following its program yields every event', async () => {
    const config = YAML.parse(read('elastic/cel-input.yml'));
    const input = config['filebeat.inputs'][0];
    expect(input.type).toBe('cel');
    expect(input['resource.url']).toBe('${ITPORTAL_URL}/api/siem/events');
    const url = new URL(input['resource.url'].replace('${ITPORTAL_URL}', server.url));
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
    // The cursor crosses CEL as a string both ways (a number would become a double).
    expect(program).toMatch(/"cursor":\s*\{"next":\s*string\(body\.NextCursor\)\}/);
    expect(program).toMatch(/"cursor":\s*\[string\(state\.cursor\.next\)\]/);
    for (const e of events) expect(typeof e.Seq).toBe('number');
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

  it('Elastic: the index and component templates map every envelope field explicitly (no dynamic mapping under itportal.*)', () => {
    const input = YAML.parse(read('elastic/cel-input.yml'))['filebeat.inputs'][0];
    const component = JSON.parse(read('elastic/component-template.json'));
    const index = JSON.parse(read('elastic/index-template.json'));
    const componentName = /PUT _component_template\/(\S+)/.exec(component._meta.description)![1]!;
    expect(index.composed_of).toContain(componentName);
    expect(index.data_stream).toEqual({});
    const patterns = index.index_patterns.map(
      (p: string) => new RegExp(`^${p.replaceAll('.', '\\.').replaceAll('*', '.*')}$`),
    );
    expect(patterns.some((p: RegExp) => p.test(input.index))).toBe(true);
    const pipelineName = /PUT _ingest\/pipeline\/(\S+)/.exec(
      JSON.parse(read('elastic/ingest-pipeline.json')).description,
    )![1];
    expect(index.template.settings['index.default_pipeline']).toBe(pipelineName);
    expect(input.pipeline).toBe(pipelineName);

    const props = component.template.mappings.properties;
    /** Leaf mappings by dotted path; objects must not map dynamically under itportal. */
    const leaves = new Map<string, string>();
    const walkMapping = (node: any, prefix: string) => {
      for (const [name, m] of Object.entries<any>(node)) {
        const p = prefix ? `${prefix}.${name}` : name;
        if (m.properties) {
          if (p.startsWith('itportal'))
            expect(['false', 'strict', false], `${p}.dynamic`).toContain(m.dynamic);
          walkMapping(m.properties, p);
        } else leaves.set(p, m.type);
      }
    };
    walkMapping(props, '');
    expect(['false', 'strict', false]).toContain(props.itportal.dynamic);

    // Every leaf of every live event is mapped (Details as one flattened field), with a type its values fit.
    const all = [...events, ...pollEvents];
    const seen = new Set<string>();
    const walkEvent = (v: any, p: string) => {
      const type = leaves.get(p);
      if (type === 'flattened' || (v !== null && typeof v === 'object' && !Array.isArray(v) && !type)) {
        if (type !== 'flattened') for (const [k, c] of Object.entries(v)) walkEvent(c, `${p}.${k}`);
        seen.add(p);
        return;
      }
      expect(type, `${p} is not mapped`).toBeDefined();
      seen.add(p);
      for (const x of Array.isArray(v) ? v : [v]) {
        if (x === null) continue;
        if (type === 'ip') expect(net.isIP(String(x)), `${p} = ${x}`).not.toBe(0);
        if (type === 'date') expect(Number.isNaN(Date.parse(String(x))), `${p} = ${x}`).toBe(false);
        if (type === 'long') expect(Number.isSafeInteger(x), `${p} = ${x}`).toBe(true);
        if (type === 'keyword') expect(['string', 'number'], `${p} = ${x}`).toContain(typeof x);
      }
    };
    for (const e of all) for (const [k, v] of Object.entries(e)) walkEvent(v, `itportal.${k}`);
    for (const p of leaves.keys())
      if (p.startsWith('itportal.')) expect(seen, `${p} is in no event`).toContain(p);

    // Every field the ingest pipeline writes outside itportal.* is mapped too.
    const pipeline = read('elastic/ingest-pipeline.json');
    for (const m of pipeline.matchAll(/"(?:field|target_field)":\s*"([\w.@]+)"/g)) {
      if (m[1]!.startsWith('itportal') || m[1] === 'message') continue;
      expect(leaves.has(m[1]!), `${m[1]} (set by the pipeline) is not mapped`).toBe(true);
    }
  });

  it('Splunk: the inputs monitor what the script writes, and props, event types and tags name envelope fields', () => {
    const inputs = parseConf(read('splunk/TA-itportal/default/inputs.conf'));
    const script = Object.keys(inputs).find((s) => s.startsWith('script://'))!;
    expect(script).toBe('script://./bin/itportal-pull.sh');
    const scriptFile = path.join(SIEM, 'splunk/TA-itportal/bin/itportal-pull.sh');
    expect(fs.statSync(scriptFile).mode & 0o111).not.toBe(0);
    expect(Number(inputs[script]!.interval)).toBeGreaterThanOrEqual(60);
    const monitor = Object.keys(inputs).find((s) => s.startsWith('monitor://'))!;
    const monitoredDir = monitor.slice('monitor://'.length);
    const scriptText = read('splunk/TA-itportal/bin/itportal-pull.sh');
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

    const props = parseConf(read('splunk/TA-itportal/default/props.conf'))[inputs[monitor]!.sourcetype!]!;
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
    const eventtypes = parseConf(read('splunk/TA-itportal/default/eventtypes.conf'));
    for (const { search } of Object.values(eventtypes)) {
      expect(search).toContain(`sourcetype=${inputs[monitor]!.sourcetype}`);
      for (const m of search!.matchAll(/Category=(\w+)/g))
        expect(events.map((e) => e.Category)).toContain(m[1]);
    }
    const tags = parseConf(read('splunk/TA-itportal/default/tags.conf'));
    for (const stanza of Object.keys(tags))
      expect(Object.keys(eventtypes)).toContain(stanza.replace('eventtype=', ''));
    expect(Object.values(tags).flatMap((t) => Object.keys(t))).toEqual(
      expect.arrayContaining(['authentication', 'change']),
    );
  });

  it('Splunk: TA-itportal is a whole app — app.conf, default/ only, exported knowledge, its index, and every lookup resolves', () => {
    const app = path.join(SIEM, 'splunk/TA-itportal');
    const files = walk(app).map((f) => path.relative(app, f));
    expect(
      files.filter((f) => f.startsWith('local/')),
      'settings ship in default/, never local/',
    ).toEqual([]);
    for (const f of files.filter((f) => /\.(conf|meta)$/.test(f) && !f.startsWith('README/')))
      parseConf(fs.readFileSync(path.join(app, f), 'utf8'));
    const appConf = parseConf(fs.readFileSync(path.join(app, 'default/app.conf'), 'utf8'));
    expect(appConf.package?.id).toBe('TA-itportal');
    expect(appConf.launcher?.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(appConf.ui?.is_visible).toBe('false');

    // Event types and tags are exported, or the CIM data models (searching from their own app) miss them.
    const meta = parseConf(fs.readFileSync(path.join(app, 'metadata/default.meta'), 'utf8'));
    for (const kind of ['eventtypes', 'tags', 'props', 'transforms', 'lookups'])
      expect(meta[kind]?.export, kind).toBe('system');

    // Every index an input writes to (other than Splunk's own) is defined by the app.
    const inputs = parseConf(fs.readFileSync(path.join(app, 'default/inputs.conf'), 'utf8'));
    const indexes = parseConf(fs.readFileSync(path.join(app, 'default/indexes.conf'), 'utf8'));
    for (const stanza of Object.values(inputs)) {
      expect(stanza.disabled, 'inputs ship disabled; the README enables them in local/').toBe('true');
      if (!stanza.index!.startsWith('_'))
        expect(indexes[stanza.index!]?.homePath, stanza.index).toMatch(/^\$SPLUNK_DB\//);
    }

    // LOOKUP- in props names a transform whose CSV exists, has the input and output fields, reads
    // envelope fields, and has a row for every event type and outcome the portal knows.
    const props = parseConf(fs.readFileSync(path.join(app, 'default/props.conf'), 'utf8'))['itportal:audit']!;
    const transforms = parseConf(fs.readFileSync(path.join(app, 'default/transforms.conf'), 'utf8'));
    const lookups = Object.entries(props).filter(([k]) => k.startsWith('LOOKUP-'));
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    for (const [, v] of lookups) {
      const m = /^(\w+)\s+(.+?)\s+OUTPUT\s+(.+)$/.exec(v);
      expect(m, v).not.toBeNull();
      const transform = transforms[m![1]!];
      expect(transform, m![1]).toBeDefined();
      const csv = fs
        .readFileSync(path.join(app, 'lookups', transform!.filename!), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(','));
      const header = csv[0]!;
      const inputsOf = m![2]!.split(/\s+/);
      for (const f of [...inputsOf, ...m![3]!.split(/\s+/)]) expect(header, f).toContain(f);
      for (const f of inputsOf) expect(hasPath(events, f), f).toBe(true);
      const keys = new Set(csv.slice(1).map((row) => inputsOf.map((f) => row[header.indexOf(f)]).join('|')));
      for (const type of EVENT_TYPE_LIST.map((t) => t.type))
        for (const outcome of OUTCOMES) expect(keys, `${type}|${outcome}`).toContain(`${type}|${outcome}`);
      for (const row of csv.slice(1)) expect(row.length).toBe(header.length);
    }
    // The saved searches name the app's index and sourcetype and envelope fields and live values.
    const saved = parseConf(fs.readFileSync(path.join(app, 'default/savedsearches.conf'), 'utf8'));
    expect(Object.keys(saved).length).toBeGreaterThanOrEqual(3);
    for (const [name, s] of Object.entries(saved)) {
      expect(s.search, name).toMatch(/^index=itportal sourcetype=itportal:audit /);
      expect(s.disabled, name).toBe('1');
      for (const m of s.search!.matchAll(/\b(EventType|Target\.Type)="?([\w.]+)"?/g))
        expect(
          [...events, ...pollEvents].map((e) => fieldValue(e, m[1]!)),
          `${name}: ${m[0]}`,
        ).toContain(m[2]);
      for (const m of s.search!.matchAll(/\b((?:Actor|Target|Details)\.\w+|Ip|Severity)\b/g))
        expect(hasPath([...events, ...pollEvents], m[1]!), `${name}: ${m[1]}`).toBe(true);
    }
    // Every setting the script reads from local/itportal.conf is documented in README/itportal.conf.spec.
    const spec = fs.readFileSync(path.join(app, 'README/itportal.conf.spec'), 'utf8');
    const script = fs.readFileSync(path.join(app, 'bin/itportal-pull.sh'), 'utf8');
    const readKeys = [...script.matchAll(/\$\(setting (\w+)\)/g)].map((m) => m[1]!);
    expect(readKeys.sort()).toEqual(['key_file', 'out_dir', 'url']);
    for (const k of readKeys) expect(spec).toMatch(new RegExp(`^${k} = <`, 'm'));
    // A props EVAL/LOOKUP must not set the same field twice (the lookup owns action/status/change_type).
    for (const f of ['action', 'status', 'change_type']) expect(props[`EVAL-${f}`], f).toBeUndefined();
  });

  it('Splunk: the REST modular input example names the live feed, and the README says what it loses', () => {
    const rest = parseConf(read('splunk/rest-modular-input.conf.example'));
    const [name, stanza] = Object.entries(rest)[0]!;
    expect(name).toMatch(/^rest:\/\//);
    for (const k of [
      'endpoint',
      'http_method',
      'auth_type',
      'custom_headers',
      'response_type',
      'polling_interval',
      'index',
    ])
      expect(stanza[k], k).toBeDefined();
    expect(new URL(stanza.endpoint!.replace('<https://your-portal>', 'https://p')).pathname).toBe(
      '/api/siem/events',
    );
    expect(stanza.http_method).toBe('GET');
    expect(stanza.custom_headers).toMatch(/^Authorization=ApiKey /);
    expect(stanza.response_type).toBe('json');
    expect(Number(stanza.polling_interval)).toBeGreaterThanOrEqual(60);
    const indexes = parseConf(read('splunk/TA-itportal/default/indexes.conf'));
    expect(indexes[stanza.index!]).toBeDefined();
    for (const p of new URLSearchParams(stanza.url_args).keys()) expect(feedParameters()).toContain(p);
    const guide = read('splunk/README.md');
    for (const loss of ['No cursor persistence', 'No HasMore loop', 'key in clear text'])
      expect(guide).toContain(loss);
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
    const all = [...events, ...pollEvents];
    for (const f of fields) expect(hasPath(all, f), f).toBe(true);
    for (const m of rules.matchAll(/<field name="EventType" type="pcre2">(\^[^<]+\$)<\/field>/g)) {
      const re = new RegExp(m[1]!);
      expect(
        all.some((e) => re.test(e.EventType)),
        m[1],
      ).toBe(true);
    }
    for (const m of rules.matchAll(/<field name="Target.Type" type="pcre2">\^(\w+)\$<\/field>/g)) {
      expect(all.map((e) => e.Target.Type)).toContain(m[1]);
    }
    const base = /<field name="SourceTable" type="pcre2">([^<]+)<\/field>/.exec(rules)![1]!;
    for (const e of all) expect(e.SourceTable).toMatch(new RegExp(base));
  });

  it('Wazuh: every rule parses, has a level and compliance groups, and every live event (polls too) lands on a rule that reaches wazuh-alerts', () => {
    const root = parseXml(read('wazuh/local_rules.xml'), true);
    parseXml(read('wazuh/ossec.conf.xml'), true);
    const rules = xmlAll(root, 'rule');
    expect(rules.length).toBeGreaterThanOrEqual(12);
    const byId = new Map(rules.map((r) => [r.attrs.id!, r]));
    expect(byId.size).toBe(rules.length);
    const child = (r: XmlNode, tag: string) => r.children.filter((c) => c.tag === tag);
    for (const r of rules) {
      const id = Number(r.attrs.id);
      expect(id, r.attrs.id).toBeGreaterThanOrEqual(100200);
      expect(id, r.attrs.id).toBeLessThanOrEqual(100299);
      // log_alert_level is 3 by default: below it, the manager writes no alert.
      expect(Number(r.attrs.level), `rule ${id} level`).toBeGreaterThanOrEqual(3);
      expect(Number(r.attrs.level), `rule ${id} level`).toBeLessThanOrEqual(15);
      expect(child(r, 'description')[0]?.text, `rule ${id}`).toBeTruthy();
      const groups = child(r, 'group')
        .flatMap((g) => g.text.split(','))
        .filter(Boolean);
      expect(
        groups.some((g) => g.startsWith('pci_dss_')),
        `rule ${id} pci_dss`,
      ).toBe(true);
      expect(
        groups.some((g) => g.startsWith('nist_800_53_')),
        `rule ${id} nist_800_53`,
      ).toBe(true);
      expect(
        groups.some((g) => g.startsWith('hipaa_')),
        `rule ${id} hipaa`,
      ).toBe(true);
      expect(
        groups.some((g) => g.startsWith('tsc_')),
        `rule ${id} tsc`,
      ).toBe(true);
      for (const g of groups) {
        expect(g, `rule ${id}`).toMatch(
          /^(pci_dss_\d+(\.\d+)+|nist_800_53_[A-Z]{2}\.\d+|hipaa_164\.\d+\.[a-z](\.\d+)?|gdpr_[IV]+_\d+\.\d+(\.[a-z])?|tsc_CC\d\.\d|[a-z_]+)$/,
        );
      }
      for (const m of child(r, 'mitre').flatMap((x) => child(x, 'id')))
        expect(m.text).toMatch(/^T\d{4}(\.\d{3})?$/);
      for (const s of child(r, 'if_sid')) expect(byId.has(s.text), `rule ${id} if_sid ${s.text}`).toBe(true);
      for (const f of child(r, 'field'))
        expect(f.attrs.type, `rule ${id} field ${f.attrs.name}`).toBe('pcre2');
    }
    // Which rule the manager picks: the deepest rule whose own fields and every parent's match.
    const matches = (r: XmlNode, e: Record<string, any>): boolean =>
      child(r, 'if_matched_sid').length === 0 &&
      child(r, 'field').every((f) => new RegExp(f.text).test(String(fieldValue(e, f.attrs.name!) ?? ''))) &&
      child(r, 'if_sid').every((s) => matches(byId.get(s.text)!, e));
    const depth = (r: XmlNode): number => {
      const parent = child(r, 'if_sid')[0];
      return parent ? 1 + depth(byId.get(parent.text)!) : 0;
    };
    const seen = new Set<string>();
    for (const e of [...events, ...pollEvents]) {
      const hits = rules.filter((r) => matches(r, e)).sort((a, b) => depth(b) - depth(a));
      expect(hits.length, `${e.EventType}: no rule`).toBeGreaterThan(0);
      expect(depth(hits[0]!), `${e.EventType} lands on the base rule only`).toBeGreaterThan(0);
      seen.add(e.EventType);
      for (const f of xmlAll(hits[0]!, 'field')) expect(hasPath([e], f.attrs.name!)).toBe(true);
    }
    expect([...seen].sort()).toEqual(EVENT_TYPE_LIST.map((t) => t.type).sort());
    // Every $(field) in a description and <same_field> names a field of real events.
    const all = [...events, ...pollEvents];
    for (const r of rules) {
      for (const m of child(r, 'description')[0]!.text.matchAll(/\$\(([\w.]+)\)/g))
        expect(hasPath(all, m[1]!), m[1]).toBe(true);
      for (const s of child(r, 'same_field')) expect(hasPath(all, s.text)).toBe(true);
    }
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

  it('QRadar: the log source extension parses, names live fields, reads every Timestamp, and has a QID per event type; rsyslog validates', async () => {
    const lsx = parseXml(read('qradar/itportal-lsx.xml'));
    expect(lsx.tag).toBe('{event_parsing/device_extension}device-extension');
    const patterns = new Map(xmlAll(lsx, 'pattern').map((p) => [p.attrs.id!, p.text]));
    const all = [...events, ...pollEvents];
    for (const [id, keypath] of patterns) {
      expect(keypath, id).toMatch(/^(\/"\w+")+$/);
      const dotted = [...keypath.matchAll(/"(\w+)"/g)].map((m) => m[1]).join('.');
      expect(hasPath(all, dotted), `${id}: ${keypath}`).toBe(true);
    }
    const matchers = xmlAll(lsx, 'json-matcher');
    expect(matchers.map((m) => m.attrs.field).sort()).toEqual(
      ['DeviceTime', 'EventCategory', 'EventName', 'ObjectName', 'SourceIp', 'UserName'].sort(),
    );
    for (const m of matchers) expect(patterns.has(m.attrs['pattern-id']!), m.attrs.field).toBe(true);
    // DeviceTime's Java date format parses every live Timestamp.
    const time = matchers.find((m) => m.attrs.field === 'DeviceTime')!;
    const javaToRegex: Record<string, string> = {
      yyyy: '\\d{4}',
      MM: '\\d{2}',
      dd: '\\d{2}',
      HH: '\\d{2}',
      mm: '\\d{2}',
      ss: '\\d{2}',
      SSS: '\\d{3}',
      X: '(Z|[+-]\\d{2}(:?\\d{2})?)',
      "'T'": 'T',
    };
    const timeRe = new RegExp(
      `^${time.attrs['ext-data']!.replace(/yyyy|MM|dd|HH|mm|ss|SSS|X|'T'/g, (t) => javaToRegex[t]!)}$`,
    );
    for (const e of all) expect(e.Timestamp).toMatch(timeRe);
    // A QID for every event type the portal has, with a QRadar severity (0-10), and no other.
    const singles = xmlAll(lsx, 'event-match-single');
    expect(singles.map((s) => s.attrs['event-name']).sort()).toEqual(
      EVENT_TYPE_LIST.map((t) => t.type).sort(),
    );
    for (const s of singles) {
      expect(Number(s.attrs.severity)).toBeGreaterThanOrEqual(0);
      expect(Number(s.attrs.severity)).toBeLessThanOrEqual(10);
      expect(EVENT_TYPE_LIST.find((t) => t.type === s.attrs['event-name'])!.category).toBe(
        s.attrs['device-event-category'],
      );
    }

    // rsyslog's own parser accepts the drop-in, under a main config like Debian's (which sets the work directory).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-rsyslog-'));
    const main = path.join(dir, 'rsyslog.conf');
    fs.writeFileSync(
      main,
      `global(workDirectory="${dir}")\ninclude(file="${path.join(SIEM, 'qradar/rsyslog-itportal.conf')}")\n`,
    );
    const check = await run('/usr/sbin/rsyslogd', ['-N1', '-f', main], {
      env: { PATH: '/usr/sbin:/usr/bin:/bin' },
      cwd: dir,
    });
    expect(check.code, check.stderr).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every siem pull command line in the guides parses, and the guides link to files that exist', () => {
    let count = 0;
    for (const file of [
      ...walk(SIEM),
      path.join(ROOT, 'docs/troubleshooting.md'),
      path.join(ROOT, 'README.md'),
    ]) {
      const text = fs.readFileSync(file, 'utf8');
      const sources = file.endsWith('.md') ? markdownBlocks(text).map((b) => b.code) : [text];
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

  it('runs every sh block of the guides, troubleshooting and the README, page by page, in a clean environment', async () => {
    const pages = docPages();
    const ran: string[] = [];
    const notRun: string[] = [];
    for (const page of pages) {
      const own = markdownBlocks(fs.readFileSync(path.join(ROOT, page), 'utf8'));
      for (const b of own) {
        // A shell block under another name would escape the test: `sh` runs, or says why not.
        expect(
          ['bash', 'shell', 'console', 'zsh', 'shell-session'],
          `${page}: a \`${b.lang}\` block`,
        ).not.toContain(b.lang);
        if (b.lang === 'sh' && b.notRun !== null) {
          expect(b.notRun.length, `${page}: <!-- not run --> needs a reason`).toBeGreaterThan(10);
          notRun.push(`${page}: ${b.notRun}`);
        }
      }
      const blocks = [...prerequisites(page), ...runnable(page)];
      if (!runnable(page).length) continue;
      const result = await runPage(blocks, key, server.url, testDb.env.DATA_DIR!);
      const last = /@@block (\d+)(?![\s\S]*@@block)/.exec(result.stderr)?.[1];
      const failed = last === undefined ? undefined : blocks[Number(last)];
      expect(
        result.code,
        `${page}: exit ${result.code} in the block of ${failed?.page}:\n${failed?.code}\n--- stdout:\n${result.stdout}\n--- stderr:\n${result.stderr}`,
      ).toBe(0);
      ran.push(...runnable(page).map((b) => `${page}: ${b.code.split('\n')[0]}`));
    }
    // Every page with shell commands was run, the README's first poll among them.
    expect(ran.length).toBeGreaterThanOrEqual(10);
    for (const page of [
      'README.md',
      'docs/siem/README.md',
      'docs/troubleshooting.md',
      'docs/siem/splunk/README.md',
    ])
      expect(
        ran.some((r) => r.startsWith(`${page}: `)),
        page,
      ).toBe(true);
    expect(notRun.length).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('a page run without the setup it names fails: the clean environment has no itportal, URL or key', async () => {
    // The Splunk page alone, without docs/siem/README.md's "Before you start".
    const result = await runPage(
      runnable('docs/siem/splunk/README.md'),
      key,
      server.url,
      testDb.env.DATA_DIR!,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/ITPORTAL_URL|not configured|itportal: not found|unbound variable/);
  });

  it('the Splunk scripted input refuses to run without a configured portal, and runs with local/itportal.conf', async () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-ta-'));
    fs.cpSync(path.join(SIEM, 'splunk/TA-itportal'), app, { recursive: true });
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'itp-bin-'));
    fs.symlinkSync(BIN, path.join(bin, 'itportal'));
    const env = { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, HOME: app };
    const script = path.join(app, 'bin/itportal-pull.sh');
    const unset = await run('sh', [script], { env, cwd: app });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('not configured');
    expect(unset.stderr).toContain(path.join(app, 'local/itportal.conf'));
    expect(unset.stderr + unset.stdout).not.toMatch(/example\.com/);

    fs.mkdirSync(path.join(app, 'local'));
    fs.writeFileSync(path.join(app, 'local/itportal.key'), `${key}\n`, { mode: 0o600 });
    const out = path.join(app, 'out');
    fs.writeFileSync(
      path.join(app, 'local/itportal.conf'),
      `[other]\nurl = http://127.0.0.1:9\n\n[itportal]\nurl = ${server.url}\nout_dir = ${out}\n`,
    );
    const ok = await run('sh', [script], { env, cwd: app });
    expect(ok.code, ok.stderr).toBe(0);
    const lines = fs.readFileSync(path.join(out, 'events.ndjson'), 'utf8').trim().split('\n');
    // Every event of the feed, in order (later tests' events may follow).
    expect(lines.map((l) => JSON.parse(l).Id).slice(0, events.length)).toEqual(events.map((e) => e.Id));
    fs.rmSync(app, { recursive: true, force: true });
    fs.rmSync(bin, { recursive: true, force: true });
  });
});
