/**
 * The sequenced log (modules/log/): per tenant and log (0 = trail, 1 = poll log) a head (size, root,
 * compact range, and how far each source table has been sequenced), the entries in Seq order (the
 * leaf, the JCS canonical envelope, prepared once), and the tree's perfect nodes above the leaves.
 * `tenant_id` leads every key. Existing events are sequenced by the sequencer after the upgrade.
 */
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export function migration0005(d: DialectAdapter) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      const { bigint, bytes, clustered } = d.ddl;
      const exec = (statement: string) => sql.raw(statement).execute(db);
      await exec(
        `create table log_heads (tenant_id ${bigint} not null, log smallint not null, size ${bigint} not null, root ${bytes} not null, frontier text not null, positions text not null, watermark ${bigint} not null, latest_at ${bigint}, updated_at ${bigint} not null, primary key (tenant_id, log))`,
      );
      // watermark: the largest created_at up to and including this entry (never decreases with
      // Seq), so "the first Seq at or after a time" is one probe of its index.
      await exec(
        `create table log_entries (tenant_id ${bigint} not null, log smallint not null, seq ${bigint} not null, event_type text not null, created_at ${bigint} not null, watermark ${bigint} not null, source smallint not null, source_id ${bigint} not null, leaf text, leaf_hash ${bytes} not null, primary key (tenant_id, log, seq))${clustered}`,
      );
      await exec('create index log_entries_type on log_entries (tenant_id, log, event_type, seq)');
      await exec('create index log_entries_time on log_entries (tenant_id, log, watermark, seq)');
      await exec('create index log_entries_source on log_entries (tenant_id, source, source_id)');
      // How far each SIEM key has read the trail: the highest next Seq its cursors reached, and when.
      await exec(`alter table siem_keys add column delivered_next_seq ${bigint}`);
      await exec(`alter table siem_keys add column delivered_at ${bigint}`);
      await exec(
        `create table log_nodes (tenant_id ${bigint} not null, log smallint not null, level smallint not null, idx ${bigint} not null, hash ${bytes} not null, primary key (tenant_id, log, level, idx))${clustered}`,
      );
    },
  };
}
