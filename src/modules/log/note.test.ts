/**
 * Signed notes against the published example of C2SP signed-note / golang.org/x/mod/sumdb/note
 * (the PeterNeumann key): Ed25519 is deterministic, so signing the example text with the example key
 * must give the published note byte for byte, and the published verifier key must open it.
 */
import { describe, expect, it } from 'vitest';
import {
  checkpointText,
  createNoteSigner,
  openNote,
  parseCheckpointText,
  parseVerifierKey,
  signNote,
} from './note.js';

const SIGNER_KEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const VERIFIER_KEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const NOTE =
  TEXT +
  '\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

function exampleSigner() {
  const seed = Buffer.from(SIGNER_KEY.split('+').slice(4).join('+'), 'base64').subarray(1);
  return createNoteSigner('PeterNeumann', seed);
}

describe('C2SP signed-note', () => {
  it('signs the published example byte for byte and derives the published verifier key', () => {
    const signer = exampleSigner();
    expect(signer.verifierKey).toBe(VERIFIER_KEY);
    expect(signer.keyId.toString('hex')).toBe('c74f20a3');
    expect(signNote(TEXT, signer)).toBe(NOTE);
  });

  it('opens the published note with the published key, and refuses an altered text, signature or key', () => {
    const verifier = parseVerifierKey(VERIFIER_KEY);
    expect(openNote(NOTE, verifier)).toEqual({ ok: true, text: TEXT });
    expect(openNote(NOTE.replace('cryptography', 'cryptographY'), verifier)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect(openNote(NOTE.replace('x08go', 'x08gp'), verifier).ok).toBe(false);
    const other = parseVerifierKey(createNoteSigner('PeterNeumann', Buffer.alloc(32, 7)).verifierKey);
    expect(openNote(NOTE, other).ok).toBe(false);
    expect(() => parseVerifierKey(VERIFIER_KEY.replace('c74f20a3', 'c74f20a4'))).toThrow(/key id/);
    expect(() => parseVerifierKey('not a key')).toThrow(/verifier key/);
  });

  it('writes and reads tlog-checkpoint bodies', () => {
    const root = Buffer.alloc(32, 1);
    const text = checkpointText({ origin: 'example.com/itportal/1/trail', size: 42, root });
    expect(text).toBe(`example.com/itportal/1/trail\n42\n${root.toString('base64')}\n`);
    expect(parseCheckpointText(text)).toEqual({ origin: 'example.com/itportal/1/trail', size: 42, root });
    expect(parseCheckpointText('o\n01\nAAAA\n')).toBeNull();
  });
});
