/**
 * Seeding by SQL for the benchmarks: one INSERT ... SELECT ... FROM generate_series per table
 * (PostgreSQL), rows shaped like the portal's own (types, severities, user agents, details).
 */

/** The four tables seeded (poll records, logs_siem_poll, are not in the default feed). */
export const FEED_TABLES = ['logs_login', 'logs_access', 'logs_admin', 'logs_denied'] as const;
export type FeedTable = (typeof FEED_TABLES)[number];

/**
 * A global sequence g = 0..N-1 is the event's place in time; a hash of g picks its table
 * (20 % login, 55 % access, 10 % admin, 15 % denied) and a second hash its details. Within one table
 * ids are drawn in g order, so created_at increases with id.
 */
export function seedStatement(table: FeedTable): string {
  const common = `select $1::bigint as tenant_id,
           $2::bigint + (g * $3::float8)::bigint as created_at,
           g, r, (r * 7919) % 5000 + 1 as uid, (r * 104729) % 200000 + 1 as doc
    from (select g, abs(hashint8(g)::bigint) % 100 as t, abs(hashint8(-g - 1)::bigint) % 1000000 as r
          from generate_series($4::bigint, $5::bigint) as g) s`;
  const ua = `case when r % 3 = 0 then 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
               when r % 3 = 1 then 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'
               else 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0' end`;
  const ip = `'10.' || (uid % 256) || '.' || (r % 256) || '.' || (doc % 254 + 1)`;
  const columns =
    '(tenant_id, created_at, event_type, severity, outcome, user_id, username, client_id, target_type, target_id, target_name, ip, user_agent, details)';
  switch (table) {
    case 'logs_login':
      return `insert into logs_login ${columns}
        select tenant_id, created_at,
          case when r % 100 < 75 then 'Login.Success' when r % 100 < 95 then 'Login.Failure' else 'Login.Logout' end,
          case when r % 100 between 75 and 94 then 'warning' else 'info' end,
          case when r % 100 between 75 and 94 then 'failure' else 'success' end,
          uid, 'user' || uid, null, 'User', uid::text, 'user' || uid, ${ip}, ${ua},
          case when r % 100 between 75 and 94 then '{"reason":"bad_password","method":"password"}'
               else '{"method":"password"}' end
        from (${common} where t < 20) x order by g`;
    case 'logs_access':
      return `insert into logs_access ${columns}
        select tenant_id, created_at, 'Access.Object', 'info', 'success',
          uid, 'user' || uid, null, 'Document', doc::text, 'Document ' || doc || '.pdf', ${ip}, ${ua},
          '{"documentId":' || doc || ',"action":"' || (case when r % 4 = 0 then 'download' else 'view' end) || '"}'
        from (${common} where t >= 20 and t < 75) x order by g`;
    case 'logs_admin':
      return `insert into logs_admin ${columns}
        select tenant_id, created_at,
          case when r % 10 < 3 then 'PolicyChange' else 'AdminAction' end,
          case when r % 10 < 3 then 'warning' else 'info' end,
          'success', uid % 20 + 1, 'admin' || (uid % 20 + 1), null, 'User', uid::text, 'user' || uid, ${ip}, ${ua},
          case when r % 10 < 3 then '{"setting":"passwordMinLength","from":12,"to":14}'
               else '{"change":"role","from":"member","to":"admin","userId":' || uid || '}' end
        from (${common} where t >= 75 and t < 85) x order by g`;
    case 'logs_denied':
      return `insert into logs_denied ${columns}
        select tenant_id, created_at, 'Access.Denied', 'warning', 'denied',
          uid, 'user' || uid, null, 'Document', doc::text, 'Document ' || doc || '.pdf', ${ip}, ${ua},
          '{"documentId":' || doc || ',"reason":"not_permitted"}'
        from (${common} where t >= 85) x order by g`;
  }
}
