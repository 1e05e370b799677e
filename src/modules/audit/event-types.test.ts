import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPE_LIST,
  EVENT_TYPES,
  OUTCOMES,
  SEVERITIES,
  SOURCE_TABLES,
  controlsOf,
} from './event-types.js';

describe('event type registry', () => {
  it('has no duplicate type and every type classified', () => {
    const names = EVENT_TYPE_LIST.map((t) => t.type);
    expect(new Set(names).size).toBe(names.length);
    expect(EVENT_TYPES.size).toBe(names.length);
    const tables = new Set(SOURCE_TABLES.map((t) => t.name));
    for (const t of EVENT_TYPE_LIST) {
      expect(t.category, t.type).toMatch(/^(Authentication|Access|Policy|Admin|Audit)$/);
      expect(SEVERITIES).toContain(t.defaultSeverity);
      expect(t.controls.length, t.type).toBeGreaterThan(0);
      expect(tables.has(t.source), t.type).toBe(true);
    }
    expect(OUTCOMES).toEqual(['success', 'denied', 'failure']);
  });

  it('matches the SPEC §2 table', () => {
    const row = (type: string) => {
      const t = EVENT_TYPES.get(type)!;
      return [t.category, t.controls.join(', '), t.defaultSeverity];
    };
    expect(row('Login.Success')).toEqual(['Authentication', 'AU-2, 3.3.1', 'info']);
    expect(row('Login.Failure')).toEqual(['Authentication', 'AU-2, 3.3.1', 'warning']);
    expect(row('Login.Logout')).toEqual(['Authentication', 'AU-2', 'info']);
    expect(row('Access.Object')).toEqual(['Access', 'AU-2', 'info']);
    expect(row('Access.Denied')).toEqual(['Access', 'AC-7, 3.1.8', 'warning']);
    expect(row('PolicyChange')).toEqual(['Policy', 'AC-2, AC-3, AC-7, IA-5', 'warning']);
    expect(row('AdminAction')).toEqual(['Admin', 'AU-2', 'info']);
  });

  it("maps PolicyChange controls per Target.Type (issue 13), the type's own for any other target", () => {
    expect(controlsOf('PolicyChange', 'SiemKey')).toEqual(['AC-2', 'IA-5']);
    expect(controlsOf('PolicyChange', 'IpRange')).toEqual(['AC-3', 'SC-7']);
    expect(controlsOf('PolicyChange', 'PasswordPolicy')).toEqual(['IA-5', 'AC-7']);
    expect(controlsOf('PolicyChange', 'GlobalAcl')).toEqual(['AC-3', 'AC-6']);
    expect(controlsOf('PolicyChange', 'MfaOption')).toEqual(['IA-2']);
    expect(controlsOf('PolicyChange', 'toString')).toEqual(['AC-2', 'AC-3', 'AC-7', 'IA-5']);
    expect(controlsOf('PolicyChange', null)).toEqual(['AC-2', 'AC-3', 'AC-7', 'IA-5']);
    expect(controlsOf('Access.Denied', 'SiemKey')).toEqual(['AC-7', '3.1.8']);
  });

  it('gives every source table a distinct storage table, in a fixed order', () => {
    expect(SOURCE_TABLES.map((t) => t.name)).toEqual([
      'LogsLogin',
      'LogsAccess',
      'LogsAdmin',
      'LogsDenied',
      'LogsSiemPoll',
    ]);
    expect(new Set(SOURCE_TABLES.map((t) => t.table)).size).toBe(5);
  });
});
