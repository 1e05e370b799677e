/**
 * The log's HTTP surface (SPEC §8) over real HTTP, on every store, checked against the SIEM's own copy:
 * the checkpoint's root is recomputed from the drained events' leaves (RFC 8785 by the `canonicalize`
 * package, RFC 9162 hashing), its signature opened with the served verifier key, and every proof
 * (inclusion, the batch of inclusions a filtered pull keeps, consistency) verified by the RFC 9162
 * algorithms, which merkle.test.ts checks against published vectors.
 */
import canonicalizeModule from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import type { EventType } from '../src/modules/audit/event-types.js';
import { CompactRange, leafHash, verifyConsistency, verifyInclusion } from '../src/modules/log/merkle.js';
import { openNote, parseCheckpointText, parseVerifierKey } from '../src/modules/log/note.js';
import { buildKey, drain, http, login } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const TYPES: EventType[] = [
  'Login.Success',
  'Login.Failure',
  'Access.Object',
  'Access.Denied',
  'AdminAction',
];
const b64 = (s: string) => Buffer.from(s, 'base64');
// CommonJS under Node, an ES default in its typings (as in log-leaf.ts).
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

for (const kind of STORES) {
  describe(`the log's routes on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let key: string;
    let leaves: Buffer[] = [];
    const get = (url: string, auth = true) =>
      http<any>(server, 'GET', url, { headers: auth ? { authorization: `ApiKey ${key}` } : {} });

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, { SIEM_RATE_LIMIT_PER_MINUTE: '100000' });
      key = (await buildKey(server, await login(server))).key;
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      for (let i = 0; i < 37; i++) {
        await appendEvent(
          server.database.db,
          tenantId,
          {
            eventType: TYPES[i % TYPES.length]!,
            outcome: 'success',
            actor: { userId: i, username: `u${i} "é"`, ip: '10.0.0.1', userAgent: 'log-routes' },
            target: { type: 'Document', id: String(i), name: `doc ${i}` },
            details: { i },
          },
          Date.now(),
        );
      }
      // The SIEM's copy: each event's leaf as anyone would compute it from the envelope.
      const { events } = await drain(server, key);
      leaves = events.map((e) => {
        const { Category: _c, Controls: _k, ...rest } = e;
        return leafHash(Buffer.from(canonicalize(rest)!, 'utf8'));
      });
      expect(events.map((e) => e.Seq)).toEqual(events.map((_, i) => i));
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('serves a checkpoint signed by the served key whose root is the SIEM copy’s own', async () => {
      const keyRes = await http<any>(server, 'GET', '/api/siem/log/key');
      expect(keyRes.status).toBe(200);
      const verifier = parseVerifierKey(keyRes.body.VerifierKey);
      const res = await get('/api/siem/log/checkpoint');
      expect(res.status).toBe(200);
      const opened = openNote(res.body.Checkpoint, verifier);
      expect(opened.ok).toBe(true);
      const checkpoint = parseCheckpointText((opened as { text: string }).text)!;
      expect(checkpoint.origin).toMatch(/\/itportal\/\d+\/trail$/);
      expect(res.body.Size).toBe(checkpoint.size);
      expect(checkpoint.size).toBeGreaterThanOrEqual(leaves.length);
      const range = CompactRange.empty();
      for (const leaf of leaves.slice(0, checkpoint.size)) range.push(leaf);
      expect(range.root().equals(checkpoint.root)).toBe(true);
      expect(b64(res.body.RootHash).equals(checkpoint.root)).toBe(true);
      expect((await get('/api/siem/log/checkpoint', false)).status).toBe(401);
    });

    it('proves inclusion one entry at a time and in a batch, and consistency between sizes', async () => {
      const size = leaves.length;
      const range = CompactRange.empty();
      for (const leaf of leaves) range.push(leaf);
      const root = range.root();
      const seqs = [0, 1, 7, 20, size - 1];
      const single = new Map<number, Buffer[]>();
      for (const seq of seqs) {
        const res = await get(`/api/siem/log/proof/inclusion?seq=${seq}&size=${size}`);
        expect(res.status).toBe(200);
        expect(b64(res.body.LeafHash).equals(leaves[seq]!)).toBe(true);
        const proof = (res.body.Proof as string[]).map(b64);
        expect(verifyInclusion(seq, size, leaves[seq]!, proof, root)).toBe(true);
        single.set(seq, proof);
      }
      const batch = await get(`/api/siem/log/proof/inclusions?seqs=${seqs.join(',')}&size=${size}`);
      expect(batch.status, batch.text).toBe(200);
      expect(b64(batch.body.RootHash).equals(root)).toBe(true);
      expect(batch.body.Proofs.map((p: any) => p.Seq)).toEqual(seqs);
      for (const p of batch.body.Proofs as Array<{ Seq: number; LeafHash: string; Proof: string[] }>) {
        expect(b64(p.LeafHash).equals(leaves[p.Seq]!)).toBe(true);
        expect(p.Proof.map(b64)).toEqual(single.get(p.Seq));
      }
      for (const bad of [
        `seqs=7,1&size=${size}`,
        `seqs=1,1&size=${size}`,
        `seqs=${size}&size=${size}`,
        `seqs=1&size=${size + 1000}`,
        `seqs=a&size=${size}`,
      ]) {
        const res = await get(`/api/siem/log/proof/inclusions?${bad}`);
        expect(res.status, bad).toBe(400);
        expect(Object.keys(res.body).sort()).toEqual(['Error', 'Message']);
      }
      expect((await get(`/api/siem/log/proof/inclusions?seqs=1&size=${size}`, false)).status).toBe(401);

      const from = 9;
      const small = CompactRange.empty();
      for (const leaf of leaves.slice(0, from)) small.push(leaf);
      const consistency = await get(`/api/siem/log/proof/consistency?from=${from}&to=${size}`);
      expect(consistency.status).toBe(200);
      expect(b64(consistency.body.FromRootHash).equals(small.root())).toBe(true);
      expect(
        verifyConsistency(from, size, small.root(), root, (consistency.body.Proof as string[]).map(b64)),
      ).toBe(true);
    });
  });
}
