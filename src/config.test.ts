import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('takes TRUSTED_PROXIES as IPv4/IPv6 addresses or CIDRs, and names a bad entry', () => {
    expect(loadConfig({ TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8, ::1/128' }).trustedProxies).toEqual([
      '127.0.0.1/32',
      '10.0.0.0/8',
      '::1/128',
    ]);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, bogus' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, bogus' })).toThrow(/TRUSTED_PROXIES: "bogus"/);
  });

  it('refuses a bad number or URL, naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ LOGIN_RATE_LIMIT_PER_MINUTE: '0' })).toThrow(/LOGIN_RATE_LIMIT_PER_MINUTE/);
  });

  it('reads SIEM_READ_AHEAD as a flag, on by default', () => {
    expect(loadConfig({}).siemReadAhead).toBe(true);
    expect(loadConfig({ SIEM_READ_AHEAD: 'false' }).siemReadAhead).toBe(false);
    expect(loadConfig({ SIEM_READ_AHEAD: '0' }).siemReadAhead).toBe(false);
    expect(loadConfig({ SIEM_READ_AHEAD: 'TRUE' }).siemReadAhead).toBe(true);
    expect(() => loadConfig({ SIEM_READ_AHEAD: 'maybe' })).toThrow(/SIEM_READ_AHEAD must be true or false/);
  });
});
