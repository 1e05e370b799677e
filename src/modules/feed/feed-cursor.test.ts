import crypto from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { decodeCursor, encodeCursor, encodeLegacyCursor, type LegacyCursor } from './feed-cursor.js';

const key = crypto.randomBytes(32);

/** A payload signed as the feed signs cursors (tenant 1): shapes encodeCursor would never write. */
function sign(json: string): string {
  const p = Buffer.from(json);
  const mac = crypto.createHmac('sha256', key).update('itp.cursor.v1|1|').update(p).digest().subarray(0, 16);
  return Buffer.concat([p, mac]).toString('base64url');
}

describe('feed cursor', () => {
  it('round-trips a version-2 cursor (log, next Seq, since, floors) as URL-safe base64 without padding', () => {
    const cursor = { v: 2 as const, log: 'trail' as const, next: 1_234_567, since: 1_700_000_000_000 };
    const token = encodeCursor(cursor, key, 7);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(token, key, 7)).toEqual(cursor);
    const translated = {
      v: 2 as const,
      log: 'polls' as const,
      next: 3,
      since: null,
      floors: { LogsSiemPoll: 9 },
    };
    expect(decodeCursor(encodeCursor(translated, key, 7), key, 7)).toEqual(translated);
    for (const json of [
      '{"v":2,"l":2,"n":1,"s":null}',
      '{"v":2,"l":0,"n":-1,"s":null}',
      '{"v":2,"l":0,"n":1.5,"s":null}',
      '{"v":2,"l":0,"s":null}',
      '{"v":2,"l":0,"n":1,"s":null,"f":{"Nope":1}}',
      '{"v":2,"l":0,"n":1,"s":null,"f":[1]}',
    ]) {
      expect(() => decodeCursor(sign(json), key, 1), json).toThrow(AppError);
    }
  });

  it('still decodes a version-1 cursor (per-table positions and since) as release 0.1 wrote it', () => {
    const cursor: Omit<LegacyCursor, 'v'> = {
      since: 1_700_000_000_000,
      positions: { LogsLogin: { txid: 812, id: 43383 }, LogsDenied: { txid: 0, id: 5 } },
    };
    expect(decodeCursor(encodeLegacyCursor(cursor, key, 7), key, 7)).toEqual({ v: 1, ...cursor });
  });

  it('carries the previous page mix as a hint, and refuses a malformed one', () => {
    const cursor = {
      since: null,
      positions: { LogsAccess: { txid: 3, id: 4 } },
      shares: { LogsAccess: 580, LogsLogin: 200 },
    };
    expect(decodeCursor(encodeLegacyCursor(cursor, key, 1), key, 1)).toEqual({ v: 1, ...cursor });
    for (const r of ['{"LogsAccess":1001}', '[1]', '{"LogsAccess":0.5}', '{"Nope":-1}']) {
      expect(() => decodeCursor(sign(`{"v":1,"s":null,"p":{},"r":${r}}`), key, 1), r).toThrow(AppError);
    }
    // A newer release's table in the hint is dropped, not refused.
    expect(
      (
        decodeCursor(
          sign('{"v":1,"s":null,"p":{},"r":{"LogsFuture":3,"LogsLogin":7}}'),
          key,
          1,
        ) as LegacyCursor
      ).shares,
    ).toEqual({
      LogsLogin: 7,
    });
  });

  it('decodes the cursors release 0.1.0 wrote (a fixture), exactly as they were', () => {
    const fixture = JSON.parse(
      fs.readFileSync(new URL('../../../test/fixtures/cursors-0.1.0.json', import.meta.url), 'utf8'),
    ) as {
      key: string;
      tenantId: number;
      cursors: Array<{ cursor: string; since: number | null; positions: object }>;
    };
    const fixtureKey = Buffer.from(fixture.key, 'base64');
    expect(fixture.cursors.length).toBeGreaterThan(1);
    for (const c of fixture.cursors) {
      const decoded = decodeCursor(c.cursor, fixtureKey, fixture.tenantId) as LegacyCursor;
      expect(decoded.v).toBe(1);
      expect(decoded.since).toBe(c.since);
      expect(decoded.positions).toEqual(c.positions);
    }
  });

  it("decodes a version-1 cursor carrying a newer release's table, and asks to retry a newer version", () => {
    const decoded = decodeCursor(
      sign('{"v":1,"s":null,"p":{"LogsLogin":[4,5],"LogsFuture":[9,10]},"x":1}'),
      key,
      1,
    ) as LegacyCursor;
    expect(decoded.positions).toEqual({ LogsLogin: { txid: 4, id: 5 } });
    expect(decoded.foreign).toEqual({ LogsFuture: [9, 10] });
    for (const bad of [
      '{"v":1,"s":null,"p":{"Logs Future":[1,2]}}',
      '{"v":1,"s":null,"p":{"LogsFuture":[1]}}',
    ]) {
      expect(() => decodeCursor(sign(bad), key, 1), bad).toThrow(AppError);
    }
    try {
      decodeCursor(sign('{"v":3,"q":17}'), key, 1);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({
        status: 503,
        code: 'cursor_from_newer_release',
        headers: { 'Retry-After': '5' },
      });
    }
    // A forged newer-version cursor is still a 400.
    const forged = Buffer.concat([Buffer.from('{"v":3}'), Buffer.alloc(16)]).toString('base64url');
    expect(() => decodeCursor(forged, key, 1)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('leaves a table missing from a version-1 cursor unpositioned (read from its start)', () => {
    const token = encodeLegacyCursor({ since: null, positions: { LogsLogin: { txid: 1, id: 2 } } }, key, 1);
    expect((decodeCursor(token, key, 1) as LegacyCursor).positions.LogsSiemPoll).toBeUndefined();
  });

  it('rejects tampering, truncation, another tenant, another key, and garbage', () => {
    const token = encodeCursor({ v: 2, log: 'trail', next: 4, since: null }, key, 1);
    const payload = Buffer.from(token, 'base64url');
    const tampered = Buffer.from(payload);
    tampered[10] = tampered[10]! ^ 1;
    const bad = [
      token.slice(0, -1),
      token.slice(0, 5),
      tampered.toString('base64url'),
      '',
      'a'.repeat(3000),
      'has space',
      'padded==',
      Buffer.from('{"v":1,"s":null,"p":{}}').toString('base64url'),
    ];
    for (const raw of bad) expect(() => decodeCursor(raw, key, 1), raw.slice(0, 20)).toThrow(AppError);
    expect(() => decodeCursor(token, key, 2)).toThrow(/cursor/);
    expect(() => decodeCursor(token, crypto.randomBytes(32), 1)).toThrow(/cursor/);
  });

  it('rejects a validly signed cursor of a malformed shape (a newer version is a 503, above)', () => {
    expect(decodeCursor(sign('{"v":1,"s":null,"p":{}}'), key, 1)).toEqual({
      v: 1,
      since: null,
      positions: {},
    });
    for (const json of [
      '{"v":0,"s":null,"p":{}}',
      '{"v":"2","s":null,"p":{}}',
      '{"v":1,"s":"x","p":{}}',
      '{"v":1,"s":null,"p":{"No pe":[1,2]}}',
      '{"v":1,"s":null,"p":{"LogsLogin":[-1,2]}}',
      '[]',
      'not json',
    ]) {
      expect(() => decodeCursor(sign(json), key, 1), json).toThrow(AppError);
    }
  });
});
