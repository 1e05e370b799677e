import { EcsVersion } from '@elastic/ecs';
import { describe, expect, it } from 'vitest';
import { ecsErrors } from '../../../../test/conformance/ecs-fields.js';
import { SAMPLE_CONTEXT, SAMPLE_TYPES_COVER_REGISTRY, sampleEvents } from '../../../../test/wire-samples.js';
import { ECS_VERSION, presentEcs } from './ecs.js';

describe('ecs presenter', () => {
  it('names the ECS release of the installed @elastic/ecs (9.x)', () => {
    expect(ECS_VERSION.split('.')[0]).toBe('9');
    expect(ECS_VERSION.split('.')[0]).toBe(EcsVersion.split('.')[0]);
  });

  it('writes, for every EventType, only ECS fields of their type and allowed values', () => {
    expect(SAMPLE_TYPES_COVER_REGISTRY()).toBe(true);
    for (const { event } of sampleEvents()) {
      const record = presentEcs(event, SAMPLE_CONTEXT);
      expect({ type: event.EventType, errors: ecsErrors(record) }).toEqual({
        type: event.EventType,
        errors: [],
      });
    }
  });

  it('carries Id, Seq, the source table, the tenant and the whole envelope', () => {
    for (const { event } of sampleEvents()) {
      const r = presentEcs(event, SAMPLE_CONTEXT) as Record<string, any>;
      expect(r['@timestamp']).toBe(event.Timestamp);
      expect(r.event).toMatchObject({
        kind: 'event',
        id: event.Id,
        sequence: event.Seq,
        provider: event.SourceTable,
        action: event.EventType,
        outcome: event.Outcome === 'success' ? 'success' : 'failure',
      });
      expect(r.organization).toEqual({ id: '3' });
      expect(JSON.parse(r.event.original)).toEqual(event);
      if (event.Ip) expect(r.source).toEqual({ ip: event.Ip });
      if (event.UserAgent) expect(r.user_agent).toEqual({ original: event.UserAgent });
    }
  });

  it('uses the category/type pairs of the issue', () => {
    const pairs = sampleEvents().map(({ event }) => {
      const r = presentEcs(event, SAMPLE_CONTEXT) as Record<string, any>;
      return `${event.EventType} ${r.event.category.join('+')}/${r.event.type.join('+')}`;
    });
    expect(pairs).toEqual([
      'Login.Success authentication/start',
      'Login.Failure authentication/start',
      'Login.Logout authentication/end',
      'Access.Object api/access',
      'Access.Object api/access',
      'Access.Denied api/access+denied',
      'Access.Denied api/access+denied',
      'PolicyChange configuration/creation',
      'PolicyChange configuration/change',
      'AdminAction iam/user+creation',
      'AdminAction iam/user+change',
      'AdminAction iam/admin',
      'Audit.SiemPoll api/access',
    ]);
  });

  it('the validator catches an unknown field, a wrong type, a disallowed value and a bad pair', () => {
    const event = sampleEvents()[0]!.event;
    const good = presentEcs(event, SAMPLE_CONTEXT) as Record<string, any>;
    const bad = structuredClone(good);
    bad.itportal = { controls: 'AU-2' };
    bad.event.sequence = '7';
    bad.event.kind = 'audit';
    bad.event.type = ['change'];
    bad.source = { ip: 'not-an-ip' };
    expect(ecsErrors(bad)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^itportal\.controls: not an ECS field/),
        expect.stringMatching(/^event\.sequence: expected an integer/),
        expect.stringMatching(/^event\.kind: "audit" is not an allowed value/),
        expect.stringMatching(/^event\.type: "change" is not expected with event\.category "authentication"/),
        expect.stringMatching(/^source\.ip: expected an IP address/),
      ]),
    );
  });
});
