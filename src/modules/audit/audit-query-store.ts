/**
 * Reads for the admin UI's event viewer: newest first across all source tables, with filters and
 * keyset paging. The page token is the last row's (time, table order, id); every query names the tenant.
 */
import { sql, type Kysely } from 'kysely';
import type { DB, EventTableName } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { asStoredEvents, storedEventColumns, type StoredEvent } from '../feed/feed-store.js';
import { LEGACY_EVENT_TYPE, SOURCE_TABLES, EVENT_TYPE_LIST } from './event-types.js';

export interface AuditQuery {
  tenantId: number;
  eventTypes: ReadonlySet<string>;
  severities: readonly string[] | null;
  outcomes: readonly string[] | null;
  actor: string | null;
  from: number | null;
  to: number | null;
  limit: number;
  before: string | null;
}

interface PageKey {
  t: number;
  o: number;
  i: number;
}

function decodeBefore(raw: string): PageKey {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageKey;
    if ([v.t, v.o, v.i].every((n) => Number.isSafeInteger(n) && n >= 0)) return v;
  } catch {
    // fall through
  }
  throw new AppError('invalid_request', 'before: not a page token this API issued (send NextPage verbatim)');
}

const encodeBefore = (k: PageKey) => Buffer.from(JSON.stringify(k)).toString('base64url');

export function createAuditQueryStore(db: Kysely<DB>) {
  const untyped = db as unknown as Kysely<Record<EventTableName, Record<string, unknown>>>;
  return {
    async readAuditPage(q: AuditQuery): Promise<{ events: StoredEvent[]; nextPage: string | null }> {
      const before = q.before ? decodeBefore(q.before) : null;
      const perTable = await Promise.all(
        SOURCE_TABLES.map(async ({ name, table }, order) => {
          const types = EVENT_TYPE_LIST.filter((t) => t.source === name && q.eventTypes.has(t.type)).map(
            (t) => t.type,
          );
          if (types.length === 0) return [];
          const legacyWanted = name === 'LogsAdmin' && q.eventTypes.has(LEGACY_EVENT_TYPE);
          let query = untyped
            .selectFrom(table)
            .select(storedEventColumns(name) as never[])
            .where('tenant_id' as never, '=', q.tenantId as never)
            .where((eb) =>
              legacyWanted
                ? eb.or([
                    eb('event_type' as never, 'in', types as never),
                    eb('event_type' as never, 'is', null as never),
                  ])
                : eb('event_type' as never, 'in', types as never),
            );
          if (q.severities)
            query = query.where(sql<boolean>`coalesce(severity, 'info') in (${sql.join(q.severities)})`);
          if (q.outcomes)
            query = query.where(sql<boolean>`coalesce(outcome, 'success') in (${sql.join(q.outcomes)})`);
          if (q.actor) query = query.where('username' as never, '=', q.actor as never);
          if (q.from !== null) query = query.where('created_at' as never, '>=', q.from as never);
          if (q.to !== null) query = query.where('created_at' as never, '<', q.to as never);
          if (before) {
            const { t, o, i } = before;
            // Rows after the token in (time desc, table order desc, id desc).
            if (order < o) query = query.where('created_at' as never, '<=', t as never);
            else if (order > o) query = query.where('created_at' as never, '<', t as never);
            else query = query.where(sql<boolean>`(created_at < ${t} or (created_at = ${t} and id < ${i}))`);
          }
          const rows = await query
            .orderBy('created_at' as never, 'desc')
            .orderBy('id' as never, 'desc')
            .limit(q.limit + 1)
            .execute();
          return asStoredEvents(name, rows).map((event) => ({ order, event }));
        }),
      );
      const merged = perTable
        .flat()
        .sort(
          (a, b) => b.event.createdAt - a.event.createdAt || b.order - a.order || b.event.id - a.event.id,
        );
      const page = merged.slice(0, q.limit);
      const last = page[page.length - 1];
      const nextPage =
        merged.length > q.limit && last
          ? encodeBefore({ t: last.event.createdAt, o: last.order, i: last.event.id })
          : null;
      return { events: page.map((p) => p.event), nextPage };
    },
  };
}

export type AuditQueryStore = ReturnType<typeof createAuditQueryStore>;
