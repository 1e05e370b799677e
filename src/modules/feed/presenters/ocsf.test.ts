import { describe, expect, it } from 'vitest';
import { SAMPLE_CONTEXT, SAMPLE_TYPES_COVER_REGISTRY, sampleEvents } from '../../../../test/wire-samples.js';
import { presentOcsf } from './ocsf.js';

const byType = (type: string) => sampleEvents().filter((s) => s.event.EventType === type);

describe('ocsf presenter', () => {
  it('has a sample of every EventType', () => {
    expect(SAMPLE_TYPES_COVER_REGISTRY()).toBe(true);
  });

  it('writes the base attributes of every record: type_uid, time in ms, metadata with Id, Seq, tenant', () => {
    for (const { event } of sampleEvents()) {
      const r = presentOcsf(event, SAMPLE_CONTEXT) as Record<string, any>;
      expect(r.type_uid).toBe(r.class_uid * 100 + r.activity_id);
      expect(r.category_uid).toBe(Math.floor(r.class_uid / 1000));
      expect(r.time).toBe(Date.parse(event.Timestamp));
      expect(r.severity_id).toBe({ info: 1, warning: 3, critical: 5 }[event.Severity]);
      expect(r.status_id).toBe(event.Outcome === 'success' ? 1 : 2);
      expect(r.metadata).toMatchObject({
        version: '1.8.0',
        product: { name: 'IT Portal', version: '0.1.0' },
        uid: event.Id,
        sequence: event.Seq,
        tenant_uid: '3',
      });
      // Nothing of the envelope is lost: what OCSF has no attribute for is unmapped.
      expect(r.unmapped).toMatchObject({ Controls: event.Controls, Details: event.Details });
      // OCSF has no null: an attribute is present or absent (JSON values, unmapped and entity.data,
      // copy the envelope's as they are).
      const { unmapped: _u, entity, ...mapped } = r;
      const { data: _d, ...entityRest } = entity ?? {};
      expect(JSON.stringify({ ...mapped, entityRest })).not.toContain(':null');
    }
  });

  it('maps logins and logouts to Authentication 3002, Logon 1 / Logoff 2, with user and service', () => {
    const [ok] = byType('Login.Success');
    const r = presentOcsf(ok!.event, SAMPLE_CONTEXT) as Record<string, any>;
    expect(r).toMatchObject({ class_uid: 3002, activity_id: 1, type_uid: 300201, status: 'Success' });
    expect(r.user).toEqual({ name: 'admin', uid: '1088' });
    expect(r.service).toEqual({ name: 'IT Portal', version: '0.1.0' });
    expect(r.src_endpoint).toEqual({ ip: '10.0.0.42' });
    const [failed] = byType('Login.Failure');
    const f = presentOcsf(failed!.event, SAMPLE_CONTEXT) as Record<string, any>;
    expect(f).toMatchObject({ class_uid: 3002, activity_id: 1, status_id: 2, status_detail: 'unknown_user' });
    expect(f.user.name).toBe(failed!.event.Actor.Username);
    const [out] = byType('Login.Logout');
    expect(presentOcsf(out!.event, SAMPLE_CONTEXT)).toMatchObject({
      class_uid: 3002,
      activity_id: 2,
      type_uid: 300202,
    });
  });

  it('maps access to API Activity 6003: Read for objects, a failure for denials', () => {
    for (const { event } of byType('Access.Object')) {
      expect(presentOcsf(event, SAMPLE_CONTEXT)).toMatchObject({
        class_uid: 6003,
        activity_id: 2,
        status_id: 1,
      });
    }
    const denied = byType('Access.Denied').map(
      (s) => presentOcsf(s.event, SAMPLE_CONTEXT) as Record<string, any>,
    );
    expect(denied.map((d) => [d.class_uid, d.activity_id, d.status_id])).toEqual([
      [6003, 1, 2], // POST /api/auth/login from a blocked range
      [6003, 2, 2], // a refused SIEM key's poll
    ]);
    expect(denied[0]!.actor.user).toEqual({ name: 'unknown', type_id: 0, type: 'Unknown' });
    expect(denied[1]!.actor).toEqual({ app_uid: 'k_0123456789abcdef', app_name: 'SIEM key' });
  });

  it('maps policy changes to Entity Management 3004 and user administration to Account Change 3001', () => {
    const [issued, changed] = byType('PolicyChange').map((s) => presentOcsf(s.event, SAMPLE_CONTEXT) as any);
    expect(issued).toMatchObject({
      class_uid: 3004,
      activity_id: 1,
      entity: { type: 'SiemKey', uid: 'k_0123456789abcdef' },
    });
    expect(changed).toMatchObject({ class_uid: 3004, activity_id: 3 });
    expect(changed.entity.data).toEqual({ before: { minLength: 8 }, after: { minLength: 12 } });
    const admin = byType('AdminAction').map((s) => presentOcsf(s.event, SAMPLE_CONTEXT) as any);
    expect(admin.map((a) => [a.class_uid, a.activity_id])).toEqual([
      [3001, 1], // user.created
      [3001, 99], // user.updated: no OCSF account activity says "role changed"
      [3004, 3], // a legacy row
    ]);
    expect(admin[0].user).toEqual({ name: 'new-user', uid: '12' });
    // The legacy row has no client address: the portal's own host is the source.
    expect(admin[2].src_endpoint).toEqual({ hostname: 'portal.example.com' });
  });
});
