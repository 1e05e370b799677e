/**
 * /openapi.json, on every store: a document a client generator accepts, checked two ways.
 * - By a real OpenAPI validator (@seriousme/openapi-schema-validator), against the version the
 *   document declares, and by walking it: every operation described, with a unique operationId; every
 *   error answer the one `{Error, Message}` body; Retry-After on 429 and 503.
 * - Against the live server: each operation is called without credentials, with a session but no
 *   X-CSRF-Token, and from an address the tenant's IP list blocks; whatever it answers (401, 403, the
 *   headers on them) must be in the document, and whatever the document says about security and CSRF
 *   must be what the server does. A route added without them fails here, whoever forgot what.
 * The event enums are the registry's (audit/event-types.ts), and a real feed page is what the
 * document describes.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPE_LIST, OUTCOMES, SEVERITIES } from '../src/modules/audit/event-types.js';
import { buildKey, buildUser, http, login, poll } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

interface Operation {
  method: string;
  path: string;
  op: Record<string, any>;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BLOCKED = '203.0.113.9';

function operations(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item))
      ops.push({ method: method.toUpperCase(), path, op });
  }
  return ops;
}

/** A concrete URL for the operation: every path parameter filled (guards run before validation). */
const urlOf = (path: string) => path.replace(/\{\w+\}/g, '1');

const isErrorBody = (schema: any) =>
  schema?.type === 'object' &&
  [...(schema.required ?? [])].sort().join() === 'Error,Message' &&
  schema.properties?.Error?.type === 'string' &&
  schema.properties?.Message?.type === 'string';

const csrfParameter = (op: any) =>
  (op.parameters ?? []).find((p: any) => p.in === 'header' && p.name.toLowerCase() === 'x-csrf-token');

const schemes = (op: any) => (op.security ?? []).flatMap((s: object) => Object.keys(s)).sort();

for (const kind of STORES) {
  describe(`the OpenAPI document on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let doc: any;
    let resolved: any;
    let validator: Validator;
    let ops: Operation[];
    let adminCookie: string;
    let memberCookie: string;
    let key: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, {
        TRUSTED_PROXIES: '127.0.0.1/32',
        SIEM_RATE_LIMIT_PER_MINUTE: '100000',
        LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      });
      adminCookie = await login(server);
      memberCookie = (await buildUser(server, 'member')).cookie;
      key = (await buildKey(server, adminCookie, { description: 'openapi' })).key;
      const res = await http(server, 'GET', '/openapi.json');
      expect(res.status).toBe(200);
      doc = res.body;
      validator = new Validator();
      const result = await validator.validate(structuredClone(doc));
      expect(result.errors ?? [], 'the validator says').toEqual([]);
      expect(result.valid).toBe(true);
      resolved = validator.resolveRefs();
      ops = operations(resolved);
      expect(ops.length).toBeGreaterThan(30);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('is valid against the OpenAPI version it declares', () => {
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      // The validator picked the schema of the declared version, not another one it also knows.
      expect(validator.version).toBe(doc.openapi.split('.').slice(0, 2).join('.'));
      expect(Validator.supportedVersions.has(validator.version)).toBe(true);
    });

    it('describes every operation, with a unique operationId, and every error answer as {Error, Message}', () => {
      const problems: string[] = [];
      const ids = new Map<string, string>();
      for (const { method, path, op } of ops) {
        const where = `${method} ${path}`;
        if (typeof op.description !== 'string' || op.description.trim().length < 20)
          problems.push(`${where}: no description`);
        if (typeof op.summary !== 'string' || op.summary === '') problems.push(`${where}: no summary`);
        if (!op.operationId) problems.push(`${where}: no operationId`);
        else if (ids.has(op.operationId))
          problems.push(`${where}: operationId ${op.operationId} also on ${ids.get(op.operationId)}`);
        else ids.set(op.operationId, where);
        const responses: Record<string, any> = op.responses ?? {};
        if (!Object.keys(responses).some((s) => /^2\d\d$/.test(s)))
          problems.push(`${where}: no success response`);
        if (!responses.default) problems.push(`${where}: no default (error) response`);
        for (const [status, response] of Object.entries(responses)) {
          if (!response.description || response.description === 'Default Response')
            problems.push(`${where} ${status}: no description of the response`);
          if (status !== 'default' && !/^[45]\d\d$/.test(status)) continue;
          if (!isErrorBody(response.content?.['application/json']?.schema))
            problems.push(`${where} ${status}: not the {Error, Message} body`);
          if ((status === '429' || status === '503') && !response.headers?.['Retry-After'])
            problems.push(`${where} ${status}: no Retry-After header`);
        }
      }
      expect(problems).toEqual([]);
      // One named error type for client generators, not one per response.
      expect(isErrorBody(doc.components.schemas.ErrorBody)).toBe(true);
      expect(doc.paths['/api/siem/events'].get.responses['401'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/ErrorBody',
      });
    });

    it('documents what each route answers without credentials: the security it needs, 401 and its headers', async () => {
      const problems: string[] = [];
      for (const { method, path, op } of ops) {
        const where = `${method} ${path}`;
        const res = await fetch(server.url + urlOf(path), { method });
        const body = res.status >= 400 ? ((await res.json()) as { Error: string }) : null;
        if (res.status < 400) await res.body?.cancel();
        if (res.status >= 400 && !op.responses[String(res.status)])
          problems.push(`${where}: answers ${res.status} ${body?.Error}, undocumented`);
        if (body?.Error === 'unauthenticated') {
          if (schemes(op).join() !== 'Session')
            problems.push(`${where}: needs a session, security ${schemes(op)}`);
        } else if (body?.Error === 'unauthorized') {
          if (schemes(op).join() !== 'ApiKey')
            problems.push(`${where}: needs a key, security ${schemes(op)}`);
        } else if (schemes(op).length > 0) {
          problems.push(`${where}: documents security ${schemes(op)} but answers ${res.status} without any`);
        }
        for (const header of ['WWW-Authenticate', 'Retry-After']) {
          const sent = res.headers.get(header);
          const declared = op.responses[String(res.status)]?.headers?.[header];
          if (sent !== null && !declared)
            problems.push(`${where} ${res.status}: ${header} sent, undocumented`);
          if (sent !== null && declared?.schema?.enum && !declared.schema.enum.includes(sent))
            problems.push(`${where} ${res.status}: ${header} ${sent} is not one the document allows`);
        }
        // What the document promises on a 401 is sent.
        const wwwAuthenticate = op.responses['401']?.headers?.['WWW-Authenticate'];
        if (res.status === 401 && wwwAuthenticate && res.headers.get('WWW-Authenticate') === null)
          problems.push(`${where}: documents WWW-Authenticate, does not send it`);
      }
      expect(problems).toEqual([]);
      // The feed's refusal says how to authenticate.
      const feed = await poll(server, `${key.slice(0, -1)}x`);
      expect(feed.status).toBe(401);
      expect(feed.headers.get('www-authenticate')).toBe('ApiKey');
      expect(
        doc.paths['/api/siem/events'].get.responses['401'].headers['WWW-Authenticate'].schema.enum,
      ).toEqual(['ApiKey']);
    });

    it('documents X-CSRF-Token on exactly the session routes that refuse a request without it', async () => {
      const problems: string[] = [];
      let refused = 0;
      for (const { method, path, op } of ops) {
        const where = `${method} ${path}`;
        if (schemes(op).join() !== 'Session') continue;
        // A member's session, no token: the CSRF check comes before the role and the body.
        const res = await fetch(server.url + urlOf(path), { method, headers: { cookie: memberCookie } });
        const text = await res.text();
        const csrfRefused = res.status === 403 && JSON.parse(text).Error === 'csrf_failed';
        if (csrfRefused) refused++;
        const parameter = csrfParameter(op);
        if (csrfRefused && !parameter) problems.push(`${where}: refuses without X-CSRF-Token, undocumented`);
        if (csrfRefused && !op.responses['403']) problems.push(`${where}: answers 403, undocumented`);
        if (parameter && !csrfRefused)
          problems.push(`${where}: documents X-CSRF-Token, answers ${res.status}`);
        if (parameter && parameter.required !== true) problems.push(`${where}: X-CSRF-Token not required`);
        if (STATE_CHANGING.has(method) !== csrfRefused)
          problems.push(`${where}: CSRF refusal ${csrfRefused} for a ${method}`);
      }
      expect(problems).toEqual([]);
      expect(refused).toBeGreaterThan(10);
      // No route outside the session ones takes the token.
      for (const { method, path, op } of ops) {
        if (schemes(op).join() !== 'Session') expect(csrfParameter(op), `${method} ${path}`).toBeUndefined();
      }
    });

    it("documents the 403 of the tenant's IP list on every route it guards, the feed included", async () => {
      const blocked = await http(server, 'PUT', '/api/admin/settings/ip-access', {
        cookie: adminCookie,
        body: { allow: [], block: ['203.0.113.0/24'] },
      });
      expect(blocked.status).toBe(200);
      try {
        const problems: string[] = [];
        let refused = 0;
        for (const { method, path, op } of ops) {
          const where = `${method} ${path}`;
          const res = await fetch(server.url + urlOf(path), {
            method,
            headers: { 'x-forwarded-for': BLOCKED, authorization: `ApiKey ${key}`, cookie: adminCookie },
          });
          const text = await res.text();
          if (res.status !== 403) continue;
          refused++;
          expect(JSON.parse(text), where).toEqual({ Error: 'forbidden', Message: expect.any(String) });
          const documented = op.responses['403'];
          if (!documented) problems.push(`${where}: answers 403 to a blocked address, undocumented`);
          else if (!/IP access list/.test(documented.description))
            problems.push(`${where}: its 403 does not say it may be the IP access list`);
        }
        expect(problems).toEqual([]);
        // Every route but the load balancer's three probes.
        expect(refused).toBe(ops.length - 3);
        // The feed itself, with a valid key: the address decides first.
        const feed = await poll(server, key, {}, { 'x-forwarded-for': BLOCKED });
        expect(feed.status).toBe(403);
        expect(feed.body.Error).toBe('forbidden');
        expect(doc.paths['/api/siem/events'].get.responses['403'].description).toMatch(/IP access list/);
      } finally {
        const reset = await http(server, 'PUT', '/api/admin/settings/ip-access', {
          cookie: adminCookie,
          body: { allow: [], block: [] },
        });
        expect(reset.status).toBe(200);
      }
    });

    it("lists EventType, Severity and Outcome as the registry's enums, and a feed page is what it describes", async () => {
      // The feed's Events are the envelope (format=json) or a record of another format: the envelope is
      // the member of the union that has an EventType.
      const envelopeOf = (items: any) =>
        items.anyOf ? items.anyOf.find((s: any) => s.properties?.EventType) : items;
      const envelopes = [
        envelopeOf(
          resolved.paths['/api/siem/events'].get.responses['200'].content['application/json'].schema
            .properties.Events.items,
        ),
        envelopeOf(
          resolved.paths['/api/admin/audit/events'].get.responses['200'].content['application/json'].schema
            .properties.Events.items,
        ),
      ];
      for (const envelope of envelopes) {
        expect(envelope.properties.EventType).toMatchObject({ type: 'string' });
        expect(envelope.properties.EventType.enum).toEqual(EVENT_TYPE_LIST.map((t) => t.type));
        expect(envelope.properties.Severity.enum).toEqual([...SEVERITIES]);
        expect(envelope.properties.Outcome.enum).toEqual([...OUTCOMES]);
      }
      // A real page: every key it sends is documented, every required one is sent, values in the enums.
      await http(server, 'POST', '/api/auth/login', {
        body: { username: 'admin', password: 'wrong-password' },
      });
      const page = await poll(server, key, { limit: 50 });
      expect(page.status).toBe(200);
      const pageSchema =
        resolved.paths['/api/siem/events'].get.responses['200'].content['application/json'].schema;
      expect(Object.keys(page.body).sort()).toEqual(Object.keys(pageSchema.properties).sort());
      const envelope = envelopes[0];
      expect(page.body.Events.length).toBeGreaterThan(2);
      for (const event of page.body.Events) {
        for (const k of Object.keys(event)) expect(envelope.properties, `${k} documented`).toHaveProperty(k);
        for (const k of envelope.required) expect(event, `${k} sent`).toHaveProperty(k);
        for (const k of ['EventType', 'Category', 'Severity', 'Outcome', 'SourceTable'])
          expect(envelope.properties[k].enum, `${k} ${event[k]}`).toContain(event[k]);
      }
    });
  });
}
