/**
 * Makes a real server record an event of every EventType, through its HTTP API as a person and a SIEM
 * would (no direct writes), with values wire formats must escape in the names.
 */
import { EVENT_TYPE_LIST } from '../src/modules/audit/event-types.js';
import { buildKey, drain, http, login, poll } from './factories.js';
import type { TestServer } from './harness.js';

export const TRICKY_NAME = 'Acme | R&D \\ a=b "x" ]y é 日本';

/** Returns a SIEM key of the server; its trail then holds every default-feed type, its poll log polls. */
export async function produceEveryEventType(server: TestServer): Promise<{ key: string; cookie: string }> {
  const cookie = await login(server); // Login.Success
  const failed = await http(server, 'POST', '/api/auth/login', {
    body: { username: 'admin', password: 'wrong password' },
  }); // Login.Failure
  if (failed.status !== 401) throw new Error(`expected a failed login, got ${failed.status}`);
  const { key } = await buildKey(server, cookie, { description: TRICKY_NAME }); // PolicyChange
  const user = await http(server, 'POST', '/api/admin/users', {
    cookie,
    body: { username: 'formats-member', password: 'formats-member-password', role: 'member' },
  }); // AdminAction
  if (user.status !== 201) throw new Error(`create user failed: ${user.status} ${user.text}`);
  const company = await http(server, 'POST', '/api/companies', { cookie, body: { name: TRICKY_NAME } });
  if (company.status !== 201) throw new Error(`create company failed: ${company.status} ${company.text}`);
  await http(server, 'GET', `/api/companies/${company.body.id}`, { cookie }); // Access.Object
  const member = await login(server, 'formats-member', 'formats-member-password');
  await http(server, 'GET', '/api/admin/users', { cookie: member }); // Access.Denied (admin route)
  await poll(server, key.replace(/[0-9a-f]{64}$/, '0'.repeat(64))); // Access.Denied (a wrong secret)
  await http(server, 'POST', '/api/auth/logout', { cookie: member }); // Login.Logout
  await drain(server, key); // Audit.SiemPoll
  return { key, cookie };
}

/** The types a drain of both logs must show. */
export const EVERY_TYPE = EVENT_TYPE_LIST.map((t) => t.type);
