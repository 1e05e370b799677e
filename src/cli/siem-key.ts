/** `itportal siem-key issue|list|revoke`: the same service as the admin API, recorded as PolicyChange. */
import { createContext } from '../app.js';
import type { AppContext } from '../app-context.js';
import { cliActor, openMigrated, tenantOption } from './shared.js';

async function withKeys(
  tenant: string | undefined,
  work: (keys: AppContext['siemKeys'], tenantId: number) => Promise<number>,
): Promise<number> {
  const { config, database, defaultTenantId } = await openMigrated();
  const { ctx, close } = await createContext(config, database);
  try {
    return await work(ctx.siemKeys, tenantOption(tenant, defaultTenantId));
  } finally {
    await close();
    await database.close();
  }
}

export function issueKey(opts: {
  description: string;
  allowedCidrs: string;
  tenant?: string;
  json?: boolean;
}) {
  return withKeys(opts.tenant, async (keys, tenantId) => {
    const issued = await keys.issueSiemKey({
      tenantId,
      actor: cliActor(),
      description: opts.description,
      allowedCidrs: opts.allowedCidrs,
    });
    if (opts.json) console.log(JSON.stringify(issued));
    else {
      console.log(`issued key ${issued.id} (${issued.description}); the key, shown once:`);
      console.log(issued.key);
    }
    return 0;
  });
}

export function listKeys(opts: { tenant?: string; json?: boolean }) {
  return withKeys(opts.tenant, async (keys, tenantId) => {
    const list = await keys.listSiemKeys(tenantId);
    if (opts.json) console.log(JSON.stringify(list));
    else {
      for (const k of list) {
        console.log(
          [
            k.id,
            k.status,
            JSON.stringify(k.description),
            `cidrs=${k.allowedCidrs || 'any'}`,
            `last used ${k.lastUsedAt ?? 'never'}${k.lastUsedFrom ? ` from ${k.lastUsedFrom}` : ''}`,
          ].join('  '),
        );
      }
      if (list.length === 0) console.log('no keys');
    }
    return 0;
  });
}

export function revokeKey(id: string, opts: { tenant?: string }) {
  return withKeys(opts.tenant, async (keys, tenantId) => {
    const revoked = await keys.revokeSiemKey({ tenantId, actor: cliActor(), id });
    console.log(`key ${revoked.id} ${revoked.status} at ${revoked.revokedAt}`);
    return 0;
  });
}
