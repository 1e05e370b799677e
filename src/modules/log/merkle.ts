/**
 * The RFC 9162 (Certificate Transparency 2.0, §2.1) Merkle tree over a log's leaves.
 *
 * - Leaf hash `SHA-256(0x00 ‖ leaf)`, node hash `SHA-256(0x01 ‖ left ‖ right)`, the empty tree's
 *   hash `SHA-256("")`. A tree of n leaves splits at k, the largest power of two below n.
 * - Storage: the hash of every complete ("perfect") subtree, addressed `(level, index)`: it covers
 *   leaves `[index·2^level, (index+1)·2^level)`. Level 0 are the leaf hashes. Any range hash the
 *   proofs need is a combination of O(log n) of them, so a root, an inclusion or a consistency proof
 *   costs O(log n) reads, never a scan (`rangeNodes` names the reads, `rangeHash` combines them).
 * - Appending keeps a compact range (the frontier): the perfect subtrees of the binary decomposition
 *   of the size, largest first. Each append yields the new perfect nodes to store.
 * Numbers are plain JS numbers (sizes stay far below 2^53); no 32-bit bit operations.
 */
import crypto from 'node:crypto';

export type Hash = Buffer;

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

export const EMPTY_ROOT: Hash = crypto.createHash('sha256').digest();

// crypto.hash (one call, no Hash object) is several times cheaper than createHash for short inputs.
const oneShot = (data: Buffer | string): Hash => crypto.hash('sha256', data, 'buffer') as unknown as Hash;

export function leafHash(leaf: Buffer | string): Hash {
  // U+0000 is the single byte 0x00 in UTF-8: the prefix costs no concatenation of buffers.
  return typeof leaf === 'string' ? oneShot(`\u0000${leaf}`) : oneShot(Buffer.concat([LEAF_PREFIX, leaf]));
}

/** The leaf hash from its hash input `0x00 ‖ leaf` (log-leaf.ts's leafInputOfServerLine). */
export function leafHashOfInput(input: Buffer): Hash {
  return oneShot(input);
}

const nodeInput = Buffer.alloc(65);
nodeInput[0] = NODE_PREFIX[0]!;

export function nodeHash(left: Hash, right: Hash): Hash {
  if (left.length !== 32 || right.length !== 32) return oneShot(Buffer.concat([NODE_PREFIX, left, right]));
  left.copy(nodeInput, 1);
  right.copy(nodeInput, 33);
  return oneShot(nodeInput);
}

/** The largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export interface NodeKey {
  level: number;
  index: number;
}

export interface StoredNode extends NodeKey {
  hash: Hash;
}

/** The perfect subtrees of `[a, b)`, left to right, when `a` is aligned as RFC 9162's ranges are. */
export function rangeNodes(a: number, b: number): NodeKey[] {
  const out: NodeKey[] = [];
  let start = a;
  while (start < b) {
    // The largest aligned perfect subtree starting at `start` that fits.
    let size = 1;
    while (start % (size * 2) === 0 && start + size * 2 <= b) size *= 2;
    out.push({ level: Math.log2(size), index: start / size });
    start += size;
  }
  return out;
}

/**
 * MTH(D[a:b]) from the perfect subtrees `rangeNodes(a, b)` (in that order): folded from the right,
 * which is how RFC 9162 splits a range whose size is not a power of two.
 */
export function foldRange(nodes: Hash[]): Hash {
  if (nodes.length === 0) return EMPTY_ROOT;
  let acc = nodes[nodes.length - 1]!;
  for (let i = nodes.length - 2; i >= 0; i--) acc = nodeHash(nodes[i]!, acc);
  return acc;
}

/** The ranges whose hashes form the inclusion proof of leaf `m` in a tree of `n` (RFC 9162 §2.1.3.1). */
export function inclusionRanges(m: number, n: number): Array<[number, number]> {
  if (!(m >= 0 && m < n)) throw new RangeError('leaf index outside the tree');
  const out: Array<[number, number]> = [];
  let a = 0;
  let b = n;
  const stack: Array<[number, number]> = [];
  while (b - a > 1) {
    const k = splitPoint(b - a);
    if (m - a < k) {
      stack.push([a + k, b]);
      b = a + k;
    } else {
      stack.push([a, a + k]);
      a = a + k;
    }
  }
  // PATH lists the deepest sibling first.
  for (let i = stack.length - 1; i >= 0; i--) out.push(stack[i]!);
  return out;
}

/** The ranges whose hashes form the consistency proof from size m to n (RFC 9162 §2.1.4.1). */
export function consistencyRanges(m: number, n: number): Array<[number, number]> {
  if (!(m >= 0 && m <= n)) throw new RangeError('consistency proof needs 0 <= from <= to');
  if (m === 0 || m === n) return [];
  const stack: Array<[number, number]> = [];
  let a = 0;
  let b = n;
  let mm = m;
  let start = true;
  for (;;) {
    const size = b - a;
    if (mm === size) {
      if (!start) stack.push([a, b]);
      break;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      stack.push([a + k, b]);
      b = a + k;
    } else {
      stack.push([a, a + k]);
      a = a + k;
      mm -= k;
      start = false;
    }
  }
  return stack.reverse();
}

/** A reader of stored perfect nodes: answers every key asked, in order (missing: throw). */
export type NodeReader = (keys: NodeKey[]) => Promise<Hash[]>;

/** The hashes of `ranges`, with one read of every perfect node they need. */
export async function hashRanges(ranges: Array<[number, number]>, read: NodeReader): Promise<Hash[]> {
  const perRange = ranges.map(([a, b]) => rangeNodes(a, b));
  const hashes = await read(perRange.flat());
  let i = 0;
  return perRange.map((keys) => foldRange(keys.map(() => hashes[i++]!)));
}

export async function rootAt(size: number, read: NodeReader): Promise<Hash> {
  if (size === 0) return EMPTY_ROOT;
  return (await hashRanges([[0, size]], read))[0]!;
}

export async function inclusionProof(m: number, n: number, read: NodeReader): Promise<Hash[]> {
  return hashRanges(inclusionRanges(m, n), read);
}

export async function consistencyProof(m: number, n: number, read: NodeReader): Promise<Hash[]> {
  return hashRanges(consistencyRanges(m, n), read);
}

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: true when `proof` shows `leaf` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leaf: Hash, proof: Hash[], root: Hash): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: true when `proof` shows the tree of size `m` with `first` is a prefix of `n`'s. */
export function verifyConsistency(m: number, n: number, first: Hash, second: Hash, proof: Hash[]): boolean {
  if (!(m >= 0 && m <= n)) return false;
  if (m === n) return proof.length === 0 && first.equals(second);
  if (m === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  // A first tree that is a perfect subtree is its own first proof node.
  const path = Number.isInteger(Math.log2(m)) ? [first, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return fr.equals(first) && sr.equals(second) && sn === 0;
}

/**
 * The compact range of a tree: the perfect subtrees of its size's binary decomposition, largest
 * first. `append` adds a leaf and returns the perfect nodes it completed (the leaf itself included).
 */
export class CompactRange {
  constructor(
    public size: number,
    private readonly hashes: Hash[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  append(leaf: Hash): StoredNode[] {
    const created: StoredNode[] = [{ level: 0, index: this.size, hash: leaf }];
    let hash = leaf;
    let level = 0;
    let index = this.size;
    // Each trailing 1-bit of the old size is a subtree the new leaf completes into a larger one.
    let s = this.size;
    while (isOdd(s)) {
      const left = this.hashes.pop()!;
      hash = nodeHash(left, hash);
      level += 1;
      index = half(index);
      created.push({ level, index, hash });
      s = half(s);
    }
    this.hashes.push(hash);
    this.size += 1;
    return created;
  }

  /** append without reporting the completed nodes (a verifier's hot path: no allocation but hashes). */
  push(leaf: Hash): void {
    let hash = leaf;
    for (let s = this.size; isOdd(s); s = half(s)) hash = nodeHash(this.hashes.pop()!, hash);
    this.hashes.push(hash);
    this.size += 1;
  }

  root(): Hash {
    return foldRange(this.hashes);
  }

  toJSON(): string[] {
    return this.hashes.map((h) => h.toString('base64'));
  }

  static fromJSON(size: number, hashes: string[]): CompactRange {
    return new CompactRange(
      size,
      hashes.map((h) => Buffer.from(h, 'base64')),
    );
  }
}
