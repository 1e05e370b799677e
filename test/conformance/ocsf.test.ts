/**
 * OCSF conformance: every record the feed serves with format=ocsf, for every EventType, on every store,
 * from a real server, is valid against the OCSF 1.8.0 schema files (validator: ocsf-schema.ts).
 *
 * The schema is third-party data kept outside the repository: `OCSF_SCHEMA_DIR`, or by default the
 * shared checkout beside this one (`../shared/conformance/ocsf-schema-1.8.0`). A missing directory
 * fails the suite, never skips it (.ci/run passes the directory of the original checkout).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCSF_VERSION, presentOcsf } from '../../src/modules/feed/presenters/ocsf.js';
import { EVERY_TYPE, produceEveryEventType } from '../every-event-type.js';
import { drain } from '../factories.js';
import { startServer, type TestServer } from '../harness.js';
import { STORES, createTestDatabase, type TestDatabase } from '../stores.js';
import { SAMPLE_CONTEXT, sampleEvents } from '../wire-samples.js';
import { loadOcsfSchema, type OcsfIssue, type OcsfSchema } from './ocsf-schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCHEMA_DIR =
  process.env.OCSF_SCHEMA_DIR || path.resolve(root, '../shared/conformance/ocsf-schema-1.8.0');

/** Errors: every kind but recommended-missing (which the report counts). */
const errorsOf = (issues: OcsfIssue[]) => issues.filter((i) => i.kind !== 'recommended-missing');

let schema: OcsfSchema;

describe('OCSF schema', () => {
  it(`is found at OCSF_SCHEMA_DIR or the shared checkout (${SCHEMA_DIR}), release ${OCSF_VERSION}`, () => {
    if (!fs.existsSync(path.join(SCHEMA_DIR, 'dictionary.json'))) {
      throw new Error(
        `OCSF schema not found in ${SCHEMA_DIR}: set OCSF_SCHEMA_DIR to an ocsf-schema ${OCSF_VERSION} checkout`,
      );
    }
    schema = loadOcsfSchema(SCHEMA_DIR);
    expect(schema.version).toBe(OCSF_VERSION);
    expect(schema.classes.get(3002)?.name).toBe('authentication');
    expect(schema.classes.get(6003)?.name).toBe('api_activity');
    expect(schema.classes.get(3004)?.name).toBe('entity_management');
    expect(schema.classes.get(3001)?.name).toBe('account_change');
  });

  it('the validator finds each kind of error in a broken record', () => {
    const good = presentOcsf(sampleEvents()[0]!.event, SAMPLE_CONTEXT) as Record<string, any>;
    expect(errorsOf(schema.validate(good))).toEqual([]);
    const bad = structuredClone(good);
    delete bad.user; // required by Authentication
    delete bad.metadata.product; // required by Metadata
    bad.severity_id = 42; // not in the enum
    bad.time = '2026-04-25T13:41:31.863Z'; // timestamp_t is a long
    bad.type_uid = 300299;
    bad.dst_endpoint = { ip: 'not an address' }; // ip_t's regex
    bad.service = undefined; // with dst_endpoint's fix below, at_least_one(service, dst_endpoint) fails
    delete bad.dst_endpoint;
    bad.colour = 'blue';
    const kinds = schema.validate(bad).map((i) => `${i.kind} ${i.path}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'required-missing user',
        'required-missing metadata.product',
        'enum-unknown severity_id',
        'wrong-type time',
        'type_uid-incorrect type_uid',
        'constraint authentication',
        'unknown-attribute colour',
      ]),
    );
    const ip = structuredClone(good);
    ip.src_endpoint = { ip: '999.1.1.1' };
    ip.user = { name: 7 };
    expect(schema.validate(ip).map((i) => `${i.kind} ${i.path}`)).toEqual(
      expect.arrayContaining(['wrong-type src_endpoint.ip', 'wrong-type user.name']),
    );
    const other = structuredClone(good);
    other.class_uid = 3003;
    expect(schema.validate(other).map((i) => i.kind)).toContain('type_uid-incorrect');
  });

  it('every presenter sample (each EventType, legacy rows, empty fields) is valid', () => {
    for (const { event } of sampleEvents()) {
      const issues = errorsOf(schema.validate(presentOcsf(event, SAMPLE_CONTEXT)));
      expect({ id: event.Id, issues }).toEqual({ id: event.Id, issues: [] });
    }
  });
});

for (const kind of STORES) {
  describe(`OCSF conformance of the feed on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let key: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      ({ key } = await produceEveryEventType(server));
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('every record of every EventType is valid OCSF 1.8.0 (0 errors of any kind)', async () => {
      const trail = await drain(server, key, { format: 'ocsf', limit: 4 });
      const polls = await drain(server, key, { format: 'ocsf', eventType: 'Audit.SiemPoll' });
      const records = [...trail.events, ...polls.events];
      const types = new Set(records.map((r) => r.metadata?.event_code));
      expect([...types].sort()).toEqual([...EVERY_TYPE].sort());
      const recommended = new Map<string, number>();
      for (const record of records) {
        const issues = schema.validate(record);
        expect({ id: record.metadata?.uid, errors: errorsOf(issues) }).toEqual({
          id: record.metadata?.uid,
          errors: [],
        });
        for (const i of issues) {
          // Top-level and first-level paths: what a SIEM's parser would look for.
          if (i.kind === 'recommended-missing' && i.path.split('.').length <= 2) {
            const k = `${record.class_uid} ${i.path.replace(/\[\d+\]/g, '[]')}`;
            recommended.set(k, (recommended.get(k) ?? 0) + 1);
          }
        }
      }
      // For the report: recommended attributes left out, by class.
      console.log(
        `OCSF ${kind}: ${records.length} records, 0 errors; recommended-missing (class attribute: records):\n` +
          [...recommended].map(([k, n]) => `  ${k}: ${n}`).join('\n'),
      );
    });
  });
}
