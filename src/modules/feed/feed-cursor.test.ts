import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { decodeCursor, encodeCursor } from './feed-cursor.js';

const key = crypto.randomBytes(32);

describe('feed cursor', () => {
  it('round-trips positions and since as URL-safe base64 without padding', () => {
    const cursor = {
      since: 1_700_000_000_000,
      positions: { LogsLogin: { txid: 812, id: 43383 }, LogsDenied: { txid: 0, id: 5 } },
    };
    const token = encodeCursor(cursor, key, 7);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(token, key, 7)).toEqual(cursor);
  });

  it('carries the previous page mix as a hint, and refuses a malformed one', () => {
    const cursor = {
      since: null,
      positions: { LogsAccess: { txid: 3, id: 4 } },
      shares: { LogsAccess: 580, LogsLogin: 200 },
    };
    expect(decodeCursor(encodeCursor(cursor, key, 1), key, 1)).toEqual(cursor);
    const sign = (json: string) => {
      const p = Buffer.from(json);
      const mac = crypto
        .createHmac('sha256', key)
        .update('itp.cursor.v1|1|')
        .update(p)
        .digest()
        .subarray(0, 16);
      return Buffer.concat([p, mac]).toString('base64url');
    };
    for (const r of ['{"LogsAccess":1001}', '{"Nope":1}', '[1]', '{"LogsAccess":0.5}']) {
      expect(() => decodeCursor(sign(`{"v":1,"s":null,"p":{},"r":${r}}`), key, 1), r).toThrow(AppError);
    }
  });

  it('reads a table missing from the cursor from its start', () => {
    const token = encodeCursor({ since: null, positions: { LogsLogin: { txid: 1, id: 2 } } }, key, 1);
    expect(decodeCursor(token, key, 1).positions.LogsSiemPoll).toBeUndefined();
  });

  it('rejects tampering, truncation, another tenant, another key, and garbage', () => {
    const token = encodeCursor({ since: null, positions: { LogsAccess: { txid: 3, id: 4 } } }, key, 1);
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

  it('rejects a validly signed cursor of an unknown version or shape', () => {
    const sign = (json: string) => {
      const p = Buffer.from(json);
      const mac = crypto
        .createHmac('sha256', key)
        .update('itp.cursor.v1|1|')
        .update(p)
        .digest()
        .subarray(0, 16);
      return Buffer.concat([p, mac]).toString('base64url');
    };
    expect(decodeCursor(sign('{"v":1,"s":null,"p":{}}'), key, 1)).toEqual({ since: null, positions: {} });
    for (const json of [
      '{"v":2,"s":null,"p":{}}',
      '{"v":1,"s":"x","p":{}}',
      '{"v":1,"s":null,"p":{"Nope":[1,2]}}',
      '{"v":1,"s":null,"p":{"LogsLogin":[-1,2]}}',
      '[]',
      'not json',
    ]) {
      expect(() => decodeCursor(sign(json), key, 1), json).toThrow(AppError);
    }
  });
});
