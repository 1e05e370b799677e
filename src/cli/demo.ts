/**
 * `itportal demo [--events N] [--days D] [--tenant ID]`: fills a tenant with realistic activity —
 * users, companies, documents, credentials, then N events spread over the last D days: logins with
 * failures, logouts, reads and credential reveals, denials, policy changes, admin actions. Events are
 * written in batches (one multi-row INSERT per table and 1,000 rows, 10,000 events a transaction), so
 * 1,000,000 events take minutes. A progress bar on a TTY, a line every 10 % otherwise.
 */
import crypto from 'node:crypto';
import { createContext } from '../app.js';
import type { AppContext } from '../app-context.js';
import { appendEvents, type NewEvent } from '../modules/audit/audit-store.js';
import { openMigrated, tenantOption } from './shared.js';

export interface DemoOptions {
  events: number;
  days: number;
}

export type Progress = (done: number, total: number) => void;

const COMPANY_NAMES = [
  'Contoso',
  'Fabrikam',
  'Northwind',
  'Tailspin',
  'Wingtip',
  'Litware',
  'Adatum',
  'Proseware',
  'Woodgrove',
  'Fourth Coffee',
];
const DOC_TITLES = [
  'Network diagram',
  'Backup runbook',
  'Firewall rules',
  'Onboarding checklist',
  'DR plan',
  'VPN setup',
  'Printer map',
  'License inventory',
];
const CRED_NAMES = [
  'Domain admin',
  'Firewall',
  'Wi-Fi',
  'Backup NAS',
  'Microsoft 365 admin',
  'Router',
  'Hypervisor',
  'Database',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
];

/** A small deterministic PRNG (mulberry32), so a demo is reproducible from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function fillDemo(
  ctx: AppContext,
  tenantId: number,
  options: DemoOptions,
  progress: Progress = () => undefined,
) {
  const random = rng(0x17a0);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const system = { userId: null, username: 'demo', ip: null, userAgent: 'itportal-demo' };

  // People and resources, through the services (so they are real, hashed and encrypted).
  const password = crypto.randomBytes(12).toString('base64url');
  const people: Array<{ id: number; username: string; role: 'admin' | 'member' }> = [];
  const existing = new Map((await ctx.users.listUsers(tenantId)).map((u) => [u.username, u]));
  for (let i = 0; i < 24; i++) {
    const role = i < 3 ? 'admin' : 'member';
    const username = i < 3 ? `demo.admin${i + 1}` : `demo.user${i - 2}`;
    const user =
      existing.get(username) ??
      (await ctx.users.createUser({ tenantId, username, password, role, actor: system }));
    people.push({ id: user.id, username, role });
  }
  const caller = { ...people[0]!, userId: people[0]!.id, tenantId, ip: '10.0.0.10', userAgent: AGENTS[0]! };
  const companies: Array<{ id: number; name: string }> = [];
  for (const name of COMPANY_NAMES) companies.push(await ctx.resources.createCompany(caller, { name }));
  const documents: Array<{ id: number; title: string }> = [];
  const credentials: Array<{ id: number; name: string }> = [];
  for (const company of companies) {
    for (let d = 0; d < 4; d++) {
      documents.push(
        await ctx.resources.createDocument(caller, {
          companyId: company.id,
          title: `${pick(DOC_TITLES)} (${company.name})`,
          body: 'Demo content.',
        }),
      );
    }
    for (let c = 0; c < 3; c++) {
      const name = `${pick(CRED_NAMES)} (${company.name})`;
      const cred = await ctx.resources.createPassword(caller, {
        companyId: company.id,
        name,
        username: 'svc-demo',
        password: crypto.randomBytes(12).toString('base64url'),
      });
      credentials.push({ id: cred.id, name });
    }
  }

  const end = ctx.clock.now();
  const start = end - options.days * 86_400_000;
  const ipOf = (userId: number) => `10.${(userId >> 8) & 255}.${userId & 255}.${10 + (userId % 200)}`;
  function makeEvent(): NewEvent {
    const who = pick(people);
    const actor = { userId: who.id, username: who.username, ip: ipOf(who.id), userAgent: pick(AGENTS) };
    const r = random();
    if (r < 0.1)
      return {
        eventType: 'Login.Success',
        outcome: 'success',
        actor,
        target: { type: 'Session' },
        details: { logType: 'LOGIN', method: 'password' },
      };
    if (r < 0.14)
      return {
        eventType: 'Login.Failure',
        outcome: 'failure',
        actor,
        target: { type: 'Session' },
        details: { logType: 'LOGIN', reason: random() < 0.8 ? 'bad_password' : 'bad_totp' },
      };
    if (r < 0.2)
      return {
        eventType: 'Login.Logout',
        outcome: 'success',
        actor,
        target: { type: 'Session' },
        details: { logType: 'LOGOUT' },
      };
    if (r < 0.4) {
      const c = pick(companies);
      return {
        eventType: 'Access.Object',
        outcome: 'success',
        actor,
        target: { type: 'Company', id: c.id, name: c.name },
        details: { companyId: c.id },
      };
    }
    if (r < 0.68) {
      const d = pick(documents);
      return {
        eventType: 'Access.Object',
        outcome: 'success',
        actor,
        target: { type: 'Document', id: d.id, name: d.title },
        details: { documentId: d.id },
      };
    }
    if (r < 0.78) {
      const c = pick(credentials);
      return {
        eventType: 'Access.Object',
        outcome: 'success',
        severity: 'warning',
        actor,
        target: { type: 'Password', id: c.id, name: c.name },
        details: { credentialId: c.id, reveal: true },
      };
    }
    if (r < 0.9) {
      if (random() < 0.5) {
        return {
          eventType: 'Access.Denied',
          outcome: 'denied',
          actor: {
            ...actor,
            userId: null,
            username: null,
            ip: `203.0.113.${Math.floor(random() * 254) + 1}`,
          },
          target: { type: 'IpRange', name: 'POST /api/auth/login' },
          details: { reason: 'ip_blocked' },
        };
      }
      const c = pick(credentials);
      return {
        eventType: 'Access.Denied',
        outcome: 'denied',
        actor,
        target: { type: 'Password', id: c.id, name: c.name },
        details: { reason: 'acl', resource: 'passwords', permission: 'read', role: 'member' },
      };
    }
    if (r < 0.95) {
      const admin = pick(people.slice(0, 3));
      const adminActor = {
        userId: admin.id,
        username: admin.username,
        ip: ipOf(admin.id),
        userAgent: pick(AGENTS),
      };
      const setting = pick(['PasswordPolicy', 'IpRange', 'GlobalAcl', 'MfaOption'] as const);
      const before = { minLength: 12, lockoutThreshold: 5, lockoutMinutes: 15 };
      return {
        eventType: 'PolicyChange',
        outcome: 'success',
        actor: adminActor,
        target: { type: setting, id: setting, name: setting },
        details: { setting, before, after: { ...before, lockoutThreshold: 3 + Math.floor(random() * 5) } },
      };
    }
    const admin = pick(people.slice(0, 3));
    const target = pick(people);
    return {
      eventType: 'AdminAction',
      outcome: 'success',
      actor: { userId: admin.id, username: admin.username, ip: ipOf(admin.id), userAgent: pick(AGENTS) },
      target: { type: 'User', id: target.id, name: target.username },
      details: { action: 'user.updated', before: { role: 'member' }, after: { role: target.role } },
    };
  }

  const TRANSACTION = 10_000;
  for (let done = 0; done < options.events;) {
    const n = Math.min(TRANSACTION, options.events - done);
    const batch = Array.from({ length: n }, (_, i) => ({
      event: makeEvent(),
      // Times increase with the event's index, spread evenly over the span.
      at: Math.floor(start + ((done + i) / Math.max(1, options.events)) * (end - start)),
    }));
    await ctx.database.db.transaction().execute((trx) => appendEvents(trx, tenantId, batch));
    done += n;
    progress(done, options.events);
  }
  return {
    users: people.length,
    companies: companies.length,
    documents: documents.length,
    credentials: credentials.length,
    password,
  };
}

function progressPrinter(): Progress {
  const started = Date.now();
  let lastDecile = -1;
  return (done, total) => {
    const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
    if (process.stdout.isTTY) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stdout.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor((done / total) * 100)}% ${done}/${total} events, ${rate}/s`,
      );
      if (done === total) process.stdout.write('\n');
    } else {
      const decile = Math.floor((done / total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        console.log(JSON.stringify({ msg: 'demo progress', done, total, eventsPerSecond: rate }));
      }
    }
  };
}

export async function demo(values: { events: string; days: string; tenant?: string }): Promise<number> {
  const events = Number(values.events);
  const days = Number(values.days);
  if (!Number.isSafeInteger(events) || events < 0 || events > 100_000_000) {
    console.error('itportal demo: --events must be an integer from 0 to 100000000');
    return 2;
  }
  if (!Number.isSafeInteger(days) || days < 1 || days > 3650) {
    console.error('itportal demo: --days must be an integer from 1 to 3650');
    return 2;
  }
  const { config, database, defaultTenantId } = await openMigrated();
  const { ctx, close } = await createContext(config, database);
  try {
    const tenantId = tenantOption(values.tenant, defaultTenantId);
    const started = Date.now();
    const result = await fillDemo(ctx, tenantId, { events, days }, progressPrinter());
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `demo: ${events} events over ${days} days, ${result.users} users, ${result.companies} companies, ${result.documents} documents, ${result.credentials} credentials in ${seconds.toFixed(1)} s`,
    );
    console.log(`demo users (demo.admin1..3, demo.user1..21) share the password: ${result.password}`);
    return 0;
  } finally {
    await close();
    await database.close();
  }
}
