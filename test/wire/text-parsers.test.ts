/** A missing parser fails the tests that need it, naming the install command: never a skip. */
import { describe, expect, it } from 'vitest';
import { INSTALL, lognormalizerPath, requireBinary, rsyslogdPath } from './text-parsers.js';

describe('text parser peers', () => {
  it('a missing binary is an error that says how to install it', () => {
    expect(() => requireBinary('lognormalizer', ['/nonexistent/lognormalizer'])).toThrow(
      'run `apt-get install -y liblognorm-utils rsyslog`',
    );
    expect(INSTALL).toBe('apt-get install -y liblognorm-utils rsyslog');
  });

  it('finds lognormalizer and rsyslogd on this machine', () => {
    expect(lognormalizerPath()).toMatch(/lognormalizer$/);
    expect(rsyslogdPath()).toMatch(/rsyslogd$/);
  });
});
