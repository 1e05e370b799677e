/**
 * The tree against published vectors, not only against itself: the eight RFC 6962 test leaves and
 * their roots, and inclusion/consistency proofs from transparency-dev/merkle's testdata
 * (testdata/inclusion/{1,2,4}/happy-path.json, testdata/consistency/{1,2,4}/happy-path.json).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  EMPTY_ROOT,
  consistencyProof,
  inclusionProof,
  leafHash,
  leafHashOfInput,
  rootAt,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type NodeReader,
} from './merkle.js';

const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const b64 = (s: string) => Buffer.from(s, 'base64');

const INCLUSION = [
  {
    leafIdx: 0,
    treeSize: 8,
    root: 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
    leafHash: 'bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=',
    proof: [
      'lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=',
      'Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=',
      'a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=',
    ],
  },
  {
    leafIdx: 5,
    treeSize: 8,
    root: 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
    leafHash: 'QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=',
    proof: [
      'vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=',
      'yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=',
      '037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=',
    ],
  },
  {
    leafIdx: 1,
    treeSize: 5,
    root: 'Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=',
    leafHash: 'lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=',
    proof: [
      'bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=',
      'Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=',
      'vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=',
    ],
  },
];

const CONSISTENCY = [
  {
    size1: 1,
    size2: 8,
    root1: 'bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=',
    root2: 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
    proof: [
      'lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=',
      'Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=',
      'a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=',
    ],
  },
  {
    size1: 6,
    size2: 8,
    root1: 'duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=',
    root2: 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
    proof: [
      'DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=',
      'yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=',
      '037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=',
    ],
  },
  {
    size1: 6,
    size2: 7,
    root1: 'duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=',
    root2: '3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=',
    proof: [
      'DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=',
      'sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=',
      '037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=',
    ],
  },
];

/** An in-memory node store filled by CompactRange appends, as the sequencer fills the table. */
function buildTree(leaves: Hash[]) {
  const range = CompactRange.empty();
  const nodes = new Map<string, Hash>();
  for (const leaf of leaves) for (const n of range.append(leaf)) nodes.set(`${n.level}/${n.index}`, n.hash);
  const reads: number[] = [];
  const read: NodeReader = async (keys) => {
    reads.push(keys.length);
    return keys.map((k) => {
      const h = nodes.get(`${k.level}/${k.index}`);
      if (!h) throw new Error(`node ${k.level}/${k.index} not stored`);
      return h;
    });
  };
  return { range, read, reads };
}

describe('Merkle tree (RFC 9162) against published vectors', () => {
  const hashes = LEAVES.map((l) => leafHash(l));

  it('gives the RFC 6962 roots for every prefix of the test leaves, from the compact range and from stored nodes', async () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    for (let n = 1; n <= 8; n++) {
      const { range, read } = buildTree(hashes.slice(0, n));
      expect(range.root().toString('hex')).toBe(ROOTS[n - 1]);
      expect((await rootAt(n, read)).toString('hex')).toBe(ROOTS[n - 1]);
      // The verifier's allocation-free push gives the same roots.
      const pushed = CompactRange.empty();
      for (const h of hashes.slice(0, n)) pushed.push(h);
      expect(pushed.root().toString('hex')).toBe(ROOTS[n - 1]);
    }
    // A leaf as bytes (0x00 ‖ leaf, the verifier's path) hashes as the leaf string.
    expect(leafHashOfInput(Buffer.from('\u0000{"a":"é"}', 'utf8')).equals(leafHash('{"a":"é"}'))).toBe(true);
  });

  it('produces and verifies the published inclusion proofs', async () => {
    const { read } = buildTree(hashes);
    for (const v of INCLUSION) {
      expect(hashes[v.leafIdx]!.toString('base64')).toBe(v.leafHash);
      const proof = await inclusionProof(v.leafIdx, v.treeSize, read);
      expect(proof.map((p) => p.toString('base64'))).toEqual(v.proof);
      expect(verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), v.proof.map(b64), b64(v.root))).toBe(
        true,
      );
      // A flipped bit, another index or a truncated proof fail.
      const bad = v.proof.map(b64);
      bad[1] = Buffer.from(bad[1]!);
      bad[1][0]! ^= 8;
      expect(verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), bad, b64(v.root))).toBe(false);
      expect(verifyInclusion(v.leafIdx + 1, v.treeSize, b64(v.leafHash), v.proof.map(b64), b64(v.root))).toBe(
        false,
      );
      expect(
        verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), v.proof.slice(1).map(b64), b64(v.root)),
      ).toBe(false);
    }
  });

  it('produces and verifies the published consistency proofs', async () => {
    const { read } = buildTree(hashes);
    for (const v of CONSISTENCY) {
      const proof = await consistencyProof(v.size1, v.size2, read);
      expect(proof.map((p) => p.toString('base64'))).toEqual(v.proof);
      expect(verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), v.proof.map(b64))).toBe(true);
      expect(verifyConsistency(v.size1, v.size2, b64(v.root2), b64(v.root1), v.proof.map(b64))).toBe(false);
      expect(
        verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), v.proof.slice(0, -1).map(b64)),
      ).toBe(false);
    }
  });

  it('verifies its own proofs for every index and size pair of random trees, with O(log n) node reads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), async (n, x, y) => {
        const leaves = Array.from({ length: n }, (_, i) => leafHash(`leaf ${i}`));
        const { read, reads } = buildTree(leaves);
        const m = x % n;
        const size = m + 1 + (y % (n - m));
        const root = await rootAt(size, read);
        const proof = await inclusionProof(m, size, read);
        expect(verifyInclusion(m, size, leaves[m]!, proof, root)).toBe(true);
        const from = 1 + (x % size);
        const cproof = await consistencyProof(from, size, read);
        expect(verifyConsistency(from, size, await rootAt(from, read), root, cproof)).toBe(true);
        // Each proof was one batched read of at most ~2 log2(n) + 2 nodes.
        for (const r of reads) expect(r).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n + 1)) + 2);
      }),
      { numRuns: 200 },
    );
  });
});
