/** `itportal siem-key issue|list|revoke`: the same service as the admin API, recorded as PolicyChange. */
import { parseArgs } from 'node:util';
import { createContext } from '../app.js';
import { CLI_ACTOR, openMigrated, tenantOption } from './shared.js';

const USAGE = `usage:
  itportal siem-key issue --description <text> [--allowed-cidrs "10.0.0.0/24, 2001:db8::/32"] [--tenant <id>] [--json]
  itportal siem-key list [--tenant <id>] [--json]
  itportal siem-key revoke <key id> [--tenant <id>]`;

export async function siemKey(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'issue' && action !== 'list' && action !== 'revoke') {
    console.error(USAGE);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      description: { type: 'string' },
      'allowed-cidrs': { type: 'string', default: '' },
      tenant: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const { config, database, defaultTenantId } = await openMigrated();
  const { ctx, close } = await createContext(config, database);
  try {
    const tenantId = tenantOption(values.tenant, defaultTenantId);
    const keys = ctx.siemKeys;
    if (action === 'issue') {
      if (!values.description) {
        console.error('itportal siem-key issue: --description is required');
        return 2;
      }
      const issued = await keys.issueSiemKey({
        tenantId,
        actor: CLI_ACTOR,
        description: values.description,
        allowedCidrs: values['allowed-cidrs'],
      });
      if (values.json) console.log(JSON.stringify(issued));
      else {
        console.log(`issued key ${issued.id} (${issued.description}); the key, shown once:`);
        console.log(issued.key);
      }
      return 0;
    }
    if (action === 'list') {
      const list = await keys.listSiemKeys(tenantId);
      if (values.json) console.log(JSON.stringify(list));
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
    }
    const id = positionals[0];
    if (!id) {
      console.error('itportal siem-key revoke: the key id is required');
      return 2;
    }
    const revoked = await keys.revokeSiemKey({ tenantId, actor: CLI_ACTOR, id });
    console.log(`key ${revoked.id} ${revoked.status} at ${revoked.revokedAt}`);
    return 0;
  } finally {
    await close();
    await database.close();
  }
}
