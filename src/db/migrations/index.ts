import type { Migration } from 'kysely';
import type { DialectAdapter } from '../dialect.js';
import { migration0001 } from './0001-initial.js';
import { migration0002 } from './0002-event-store.js';
import { migration0003 } from './0003-portal.js';
import { migration0004 } from './0004-hardening.js';
import { migration0005 } from './0005-log.js';
import { migration0006 } from './0006-refusal-index.js';

/** Numbered migrations, applied in name order. Never edit one that has shipped: add the next. */
export function allMigrations(d: DialectAdapter): Record<string, Migration> {
  return {
    '0001-initial': migration0001(d),
    '0002-event-store': migration0002(d),
    '0003-portal': migration0003(d),
    '0004-hardening': migration0004(d),
    '0005-log': migration0005(d),
    '0006-refusal-index': migration0006(d),
  };
}
