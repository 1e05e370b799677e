/**
 * IP addresses and CIDR lists (IPv4 and IPv6) on ipaddr.js, the library behind Fastify's proxy-addr.
 * IPv4-mapped IPv6 peers (::ffff:10.0.0.1) are treated as the IPv4 address they carry.
 */
import ipaddr from 'ipaddr.js';
import { AppError } from '../errors.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return null;
}

/**
 * An entry as a range. An IPv4-mapped IPv6 entry (`::ffff:10.0.0.0/120`) is the IPv4 range it carries
 * (`10.0.0.0/24`): peers arrive as IPv4 (normalizeIp), so a mapped entry would otherwise never match.
 * A mapped entry shorter than /96 spans non-mapped addresses too: refused ('mapped-prefix').
 */
function parseRange(entry: string): Range | 'mapped-prefix' | null {
  const slash = entry.indexOf('/');
  const addr = parseAddress(slash === -1 ? entry : entry.slice(0, slash));
  if (!addr) return null;
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const bitsText = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText)) return null;
    bits = Number(bitsText);
    if (bits > max) return null;
  }
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    if (bits < 96) return 'mapped-prefix';
    return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [addr, bits];
}

/**
 * "10.0.0.0/24, 2001:db8::/32" (or an array) → the normalized entries. The first bad entry is named
 * in a 400 (`field` says which field it came from).
 */
export function parseCidrs(input: string | readonly string[], field: string): string[] {
  const entries = (typeof input === 'string' ? input.split(',') : [...input])
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length > 100) throw new AppError('invalid_cidr', `${field}: at most 100 entries`);
  return entries.map((entry) => {
    const range = parseRange(entry);
    if (range === 'mapped-prefix') {
      throw new AppError(
        'invalid_cidr',
        `${field}: "${entry.slice(0, 64)}" is an IPv4-mapped IPv6 range shorter than /96; write the IPv4 range it means (e.g. 10.0.0.0/24)`,
      );
    }
    if (!range) {
      throw new AppError(
        'invalid_cidr',
        `${field}: "${entry.slice(0, 64)}" is not a valid IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/24, 2001:db8::/32)`,
      );
    }
    return `${range[0].toString()}/${range[1]}`;
  });
}

export function normalizeIp(ip: string): string {
  try {
    return ipaddr.process(ip).toString();
  } catch {
    return ip;
  }
}

/** True when `ip` falls in any of the (already validated) CIDRs. */
export function ipInCidrs(ip: string, cidrs: readonly string[]): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return false;
  }
  return cidrs.some((cidr) => {
    const range = parseRange(cidr);
    if (!range || range === 'mapped-prefix') return false;
    const [net, bits] = range;
    if (net.kind() !== addr.kind()) return false;
    return addr.match(net as never, bits);
  });
}
