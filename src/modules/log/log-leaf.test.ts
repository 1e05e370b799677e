import { describe, expect, it } from 'vitest';
import { presentEvent } from '../feed/feed-presenter.js';
import type { StoredEvent } from '../feed/feed-store.js';
import { leafInputOfServerLine, leafOf, leafOfServerLine, wireOfLeaf } from './log-leaf.js';

const base: StoredEvent = {
  source: 'LogsAdmin',
  id: 7,
  txid: 1,
  createdAt: Date.UTC(2026, 3, 25, 13, 41, 31, 863),
  eventType: 'PolicyChange',
  severity: 'warning',
  outcome: 'success',
  userId: 1,
  username: 'admin "q" ,"Type":"SiemKey"',
  clientId: null,
  targetType: 'SiemKey',
  targetId: 'abc',
  targetName: 'Name with ,"Type":"IpRange" inside',
  ip: '10.0.0.42',
  userAgent: 'ua ,"Target":{"Type":"GlobalAcl"}',
  // Details before Target may hold look-alike keys at any depth.
  details: JSON.stringify({ Target: { Type: 'MfaOption' }, nested: { Type: 'PasswordPolicy' } }),
};

const CASES: [string | null, string[]][] = [
  ['SiemKey', ['AC-2', 'IA-5']],
  ['IpRange', ['AC-3', 'SC-7']],
  ['PasswordPolicy', ['IA-5', 'AC-7']],
  ['GlobalAcl', ['AC-3', 'AC-6']],
  ['MfaOption', ['IA-2']],
  // No entry of its own: the type's controls.
  ['SiemDestination', ['AC-2', 'AC-3', 'AC-7', 'IA-5']],
  ['constructor', ['AC-2', 'AC-3', 'AC-7', 'IA-5']],
  [null, ['AC-2', 'AC-3', 'AC-7', 'IA-5']],
];

describe('controls per Target.Type, derived at read time', () => {
  for (const [targetType, controls] of CASES) {
    it(`PolicyChange on ${targetType}: the presenter, the leaf's wire form and the verifier's inverse agree`, () => {
      const e = { ...base, targetType };
      expect(presentEvent(e).Controls).toEqual(controls);
      const { leaf, eventType } = leafOf(e, 41);
      expect(leaf).not.toContain('"Controls"');
      const wire = wireOfLeaf(leaf, eventType);
      expect(JSON.parse(wire)).toEqual({ ...presentEvent(e), Seq: 41 });
      expect(leafOfServerLine(wire)).toEqual({ leaf, seq: 41, eventType: 'PolicyChange' });
      const input = leafInputOfServerLine(Buffer.from(wire, 'utf8'))!;
      expect(input.seq).toBe(41);
      expect(input.input.subarray(1).toString('utf8')).toBe(leaf);
    });
  }

  it("refuses a line whose Controls are not its target's (the verifier then parses and flags it)", () => {
    const { leaf, eventType } = leafOf(base, 3);
    const wire = wireOfLeaf(leaf, eventType);
    const wrong = wire.replace('"Controls":["AC-2","IA-5"]', '"Controls":["AC-2","AC-3","AC-7","IA-5"]');
    expect(wrong).not.toBe(wire);
    expect(leafOfServerLine(wrong)).toBeNull();
    expect(leafInputOfServerLine(Buffer.from(wrong, 'utf8'))).toBeNull();
  });
});
