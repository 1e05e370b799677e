/**
 * Operations routes over real HTTP on every store: liveness, readiness, Prometheus metrics that move
 * with the feed, and the OpenAPI document generated from the route schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, http, login, poll } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition → samples (comments and blank lines skipped). */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k!] = v!;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `where`; 0 when there are none yet. */
function total(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(server: TestServer) {
  const res = await http(server, 'GET', '/metrics');
  expect(res.status).toBe(200);
  return { res, samples: parsePrometheus(res.text) };
}

/** Every route of SPEC §7 (and the portal's own), with their methods, in OpenAPI path syntax. */
const SPEC_ROUTES: Record<string, string[]> = {
  '/api/companies': ['get', 'post'],
  '/api/companies/{id}': ['get'],
  '/api/documents': ['get', 'post'],
  '/api/documents/{id}': ['get'],
  '/api/passwords': ['get', 'post'],
  '/api/passwords/{id}': ['get'],
  '/api/admin/settings/ip-access': ['get', 'put'],
  '/api/admin/settings/password-policy': ['get', 'put'],
  '/api/admin/settings/mfa': ['get', 'put'],
  '/api/admin/settings/acl': ['get', 'put'],
  '/api/admin/users': ['get', 'post'],
  '/api/admin/users/{id}': ['patch'],
  '/api/me/password': ['post'],
  '/api/me/totp': ['post'],
  '/api/me/totp/confirm': ['post'],
  '/api/auth/login': ['post'],
  '/api/auth/logout': ['post'],
  '/api/me': ['get'],
  '/api/admin/siem/keys': ['get', 'post'],
  '/api/admin/siem/keys/{id}': ['delete'],
  '/api/admin/siem/keys/{id}/polls': ['get'],
  '/api/admin/audit/events': ['get'],
  '/api/siem/events': ['get'],
  '/healthz': ['get'],
  '/readyz': ['get'],
  '/metrics': ['get'],
  '/openapi.json': ['get'],
};

for (const kind of STORES) {
  describe(`ops routes on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      cookie = await login(server);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('GET /healthz is 200 without credentials', async () => {
      const res = await http(server, 'GET', '/healthz');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('GET /readyz is 200 while the database answers', async () => {
      const res = await http(server, 'GET', '/readyz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'ready',
        horizon: { heldSeconds: expect.any(Number), holder: null },
      });
    });

    it('GET /readyz is a JSON 503 with Retry-After once the database is gone, while /healthz stays 200', async () => {
      const lost = await startServer(testDb);
      try {
        await lost.database.close();
        const ready = await http(lost, 'GET', '/readyz');
        expect(ready.status).toBe(503);
        expect(ready.body).toEqual({ Error: 'database_unavailable', Message: expect.any(String) });
        expect(Number(ready.headers.get('retry-after'))).toBeGreaterThan(0);
        expect((await http(lost, 'GET', '/healthz')).status).toBe(200);
      } finally {
        // The database is already closed: close the app alone.
        await lost.app.close();
      }
    });

    it('GET /metrics is Prometheus text, and the feed counters move with a served and a refused poll', async () => {
      const before = await scrape(server);
      expect(before.res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      for (const name of [
        'itportal_siem_polls_total',
        'itportal_siem_events_served_total',
        'itportal_siem_poll_duration_seconds',
        'itportal_siem_refusals_total',
      ]) {
        expect(before.res.text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
      }
      expect(before.res.text).toMatch(/^# TYPE itportal_siem_polls_total counter$/m);
      expect(before.res.text).toMatch(/^# TYPE itportal_siem_events_served_total counter$/m);
      expect(before.res.text).toMatch(/^# TYPE itportal_siem_poll_duration_seconds histogram$/m);
      expect(before.res.text).toMatch(/^# TYPE itportal_siem_refusals_total counter$/m);

      const { key } = await buildKey(server, cookie, { description: 'metrics' });
      const served = await poll(server, key);
      expect(served.status).toBe(200);
      const eventCount = served.body.Events.length;
      expect(eventCount).toBeGreaterThan(0);
      const refused = await poll(server, `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`);
      expect(refused.status).toBe(401);
      const badCursor = await poll(server, key, { cursor: 'not-a-cursor' });
      expect(badCursor.status).toBe(400);

      const after = await scrape(server);
      const delta = (name: string, where: Record<string, string> = {}) =>
        total(after.samples, name, where) - total(before.samples, name, where);
      // Every poll counted, by outcome: success or the answer's error code.
      expect(delta('itportal_siem_polls_total')).toBe(3);
      expect(delta('itportal_siem_polls_total', { outcome: 'success' })).toBe(1);
      expect(delta('itportal_siem_polls_total', { outcome: 'unauthorized' })).toBe(1);
      expect(delta('itportal_siem_polls_total', { outcome: 'invalid_cursor' })).toBe(1);
      const keyId = key.split('_')[2]!;
      const lastPoll = total(after.samples, 'itportal_siem_key_last_poll_timestamp_seconds', {
        key_id: keyId,
      });
      expect(Math.abs(lastPoll - Date.now() / 1000)).toBeLessThan(60);
      expect(delta('itportal_siem_events_served_total')).toBe(eventCount);
      expect(delta('itportal_siem_poll_duration_seconds_count')).toBe(1); // successful polls only
      expect(delta('itportal_siem_poll_duration_seconds_sum')).toBeGreaterThan(0);
      expect(delta('itportal_siem_poll_duration_seconds_bucket', { le: '+Inf' })).toBe(1);
      expect(delta('itportal_siem_refusals_total')).toBe(1);
      // one label for every cause: the public metric must not tell a prober why (see hardening.test.ts)
      expect(delta('itportal_siem_refusals_total', { reason: 'unauthorized' })).toBe(1);
      // The scrape names no key, secret or cursor.
      expect(after.res.text).not.toContain(key.split('_').pop()!);
      expect(after.res.text).not.toContain(served.body.NextCursor);
    });

    it('GET /openapi.json is an OpenAPI 3 document with every route of SPEC §7 that exists so far', async () => {
      const res = await http(server, 'GET', '/openapi.json');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
      const paths = Object.keys(doc.paths);
      expect(paths).toEqual(expect.arrayContaining(Object.keys(SPEC_ROUTES)));
      for (const [path, methods] of Object.entries(SPEC_ROUTES)) {
        for (const method of methods) expect(doc.paths[path][method], `${method} ${path}`).toBeDefined();
      }
      // Path parameters in OpenAPI syntax, never Fastify's.
      expect(paths.filter((p) => p.includes(':'))).toEqual([]);
      const revoke = doc.paths['/api/admin/siem/keys/{id}'].delete;
      expect(revoke.parameters).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true })]),
      );
    });

    it('documents the query parameters of GET /api/siem/events, with their valid forms', async () => {
      const doc = (await http(server, 'GET', '/openapi.json')).body;
      const feed = doc.paths['/api/siem/events'].get;
      const params: Array<Record<string, any>> = feed.parameters;
      const query = params.filter((p) => p.in === 'query');
      expect(query.map((p) => p.name).sort()).toEqual(['cursor', 'eventType', 'format', 'limit', 'since']);
      for (const p of query) {
        expect(p.required, p.name).toBe(false);
        expect(p.description, p.name).toEqual(expect.any(String));
      }
      const limit = query.find((p) => p.name === 'limit')!;
      expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 5000 });
      // The feed is authenticated by API key, and its responses include the documented refusals.
      expect(feed.security).toEqual([{ ApiKey: [] }]);
      expect(doc.components.securitySchemes.ApiKey).toMatchObject({ type: 'apiKey', in: 'header' });
      expect(Object.keys(feed.responses)).toEqual(
        expect.arrayContaining(['200', '400', '401', '429', '503']),
      );
    });

    it('serves the ops routes without a session, and never caches them', async () => {
      for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
        const res = await http(server, 'GET', path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('cache-control'), path).toBe('no-store');
      }
    });
  });
}
