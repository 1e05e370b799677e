/**
 * C2SP signed-note and tlog-checkpoint, Ed25519 only (node:crypto).
 *
 * - A note is its text (every line ending in `\n`), a blank line, then one or more signature lines
 *   `— <name> <base64(key id ‖ signature)>\n` (the dash is U+2014). The signature covers the text.
 * - Key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (0x01: the Ed25519 type).
 * - Verifier key: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
 * - A checkpoint's text is three lines: origin, tree size (decimal), base64 root hash.
 * Parsers here are strict: a note they accept is one `signNote` could have written.
 */
import crypto from 'node:crypto';

const ED25519 = 0x01;
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const DASH = '\u2014';
/** Key names: non-empty, no whitespace, no '+' (C2SP signed-note). */
const KEY_NAME = /^[^\s+]+$/;

export interface NoteSigner {
  name: string;
  keyId: Buffer;
  sign(message: Buffer): Buffer;
  verifierKey: string;
}

export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  publicKey: Buffer;
  verify(message: Buffer, signature: Buffer): boolean;
}

export function keyIdOf(name: string, publicKey: Buffer): Buffer {
  return crypto
    .createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

export function verifierKeyString(name: string, publicKey: Buffer): string {
  return `${name}+${keyIdOf(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), publicKey]).toString('base64')}`;
}

/** A signer from a 32-byte Ed25519 seed. */
export function createNoteSigner(name: string, seed: Buffer): NoteSigner {
  if (!KEY_NAME.test(name)) throw new Error('a note key name has no spaces and no "+"');
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const privateKey = crypto.createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = spki.subarray(SPKI_PREFIX.length);
  return {
    name,
    keyId: keyIdOf(name, publicKey),
    sign: (message) => crypto.sign(null, message, privateKey),
    verifierKey: verifierKeyString(name, publicKey),
  };
}

/** Parses `<name>+<hex id>+<base64 key>`; throws with the reason when it is not one. */
export function parseVerifierKey(text: string): NoteVerifier {
  const trimmed = text.trim();
  const first = trimmed.indexOf('+');
  const second = trimmed.indexOf('+', first + 1);
  if (first <= 0 || second < 0)
    throw new Error('not a verifier key (expected <name>+<hex key id>+<base64 key>)');
  const name = trimmed.slice(0, first);
  const idHex = trimmed.slice(first + 1, second);
  const material = Buffer.from(trimmed.slice(second + 1), 'base64');
  if (!KEY_NAME.test(name) || !/^[0-9a-f]{8}$/.test(idHex))
    throw new Error('not a verifier key (bad name or key id)');
  if (material.length !== 33 || material[0] !== ED25519) throw new Error('not an Ed25519 verifier key');
  const publicKey = material.subarray(1);
  const keyId = keyIdOf(name, publicKey);
  if (keyId.toString('hex') !== idHex)
    throw new Error('verifier key: the key id does not match the name and key');
  const key = crypto.createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return {
    name,
    keyId,
    publicKey,
    verify: (message, signature) => signature.length === 64 && crypto.verify(null, message, key, signature),
  };
}

export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n')) throw new Error('a note text ends with a newline');
  const sig = signer.sign(Buffer.from(text, 'utf8'));
  return `${text}\n${DASH} ${signer.name} ${Buffer.concat([signer.keyId, sig]).toString('base64')}\n`;
}

export type NoteCheck = { ok: true; text: string } | { ok: false; reason: string };

/** Opens a note with one verifier: its text when a signature line of that key verifies. */
export function openNote(note: string, verifier: NoteVerifier): NoteCheck {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return { ok: false, reason: 'not a signed note' };
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  let sawName = false;
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return { ok: false, reason: 'malformed signature line' };
    const [, name, b64] = m;
    const blob = Buffer.from(b64!, 'base64');
    if (name !== verifier.name || blob.length < 5) continue;
    if (!blob.subarray(0, 4).equals(verifier.keyId)) continue;
    sawName = true;
    if (verifier.verify(Buffer.from(text, 'utf8'), blob.subarray(4))) return { ok: true, text };
  }
  return { ok: false, reason: sawName ? 'bad signature' : `no signature by ${verifier.name}` };
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export function checkpointText(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpointText(text: string): Checkpoint | null {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') return null;
  const [origin, size, root] = lines;
  if (!origin || !/^(0|[1-9][0-9]{0,15})$/.test(size ?? '')) return null;
  const hash = Buffer.from(root ?? '', 'base64');
  if (hash.length !== 32 || hash.toString('base64') !== root) return null;
  return { origin, size: Number(size), root: hash };
}
