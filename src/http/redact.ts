/**
 * Text from a request (its path, its query parameter names) that reaches a log line or an event: a
 * SIEM key pasted into the wrong place, or anything else shaped like a secret, is replaced before it is
 * written. Keys are `itp_siem_<16 hex>_<64 hex>` (siem-key-format.ts); any other run of 32 or more
 * token characters (hex, base64url: session ids, TOTP secrets, cursors) is replaced too.
 */
const SIEM_KEY_LIKE = /itp_siem_[A-Za-z0-9]*(_[A-Za-z0-9_-]*)?/gi;
const TOKEN_LIKE = /[A-Za-z0-9_-]{32,}/g;

export function redactSecrets(text: string): string {
  // Percent-encoded text is redacted as decoded too (a key sent as %69tp_siem_… is still a key), run by
  // run, so that one bad escape (%zz) does not leave the rest encoded.
  const decoded = text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  return (
    decoded
      .replace(SIEM_KEY_LIKE, 'itp_siem_[redacted]')
      .replace(TOKEN_LIKE, '[redacted]')
      // A decoded %00 or other control character must not reach a log line or an event (PostgreSQL
      // refuses NUL in text: the record would fail and the refusal go unrecorded).
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, '\uFFFD')
  );
}
