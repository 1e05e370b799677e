/**
 * The contract every wire format (SPEC §9) fulfils: one presenter per format, one file each in this
 * folder, each a pure function of the stored event (the sequenced envelope, `Seq` included) and of a
 * small context that does not change per event. The feed, the live stream and push delivery all call
 * the same presenter, so a format lives in exactly one place.
 *
 * Rules:
 * - A presenter never reads a clock, a database or the environment: same input, same output.
 * - Every record carries the envelope's `Id` and `Seq`, so a receiver can deduplicate exactly.
 * - `kind: 'object'` formats put JSON objects in a page's `Events`; `kind: 'text'` formats put one
 *   string per event there, with no trailing newline.
 * - `Details` never holds a secret (the store guarantees it); a presenter copies, never adds, data.
 */
import type { EventEnvelope } from '../feed-schema.js';

/** The envelope as sequenced: what the log stores for an event (SPEC §2 with `Seq`, §8). */
export type WireEvent = EventEnvelope & { Seq: number };

/** What a record may say besides the event itself; fixed for a whole page. */
export interface PresentContext {
  /** The tenant the event belongs to (OCSF metadata.tenant_uid, ECS organization.id). */
  tenantId: number;
  /** The portal's host name, as the tenant is reached (syslog HOSTNAME, origin of checkpoints). */
  host: string;
  /** The product's version (CEF/LEEF header, OCSF metadata.product.version). */
  productVersion: string;
}

export type FormatName = 'json' | 'ocsf' | 'ecs' | 'cef' | 'leef' | 'syslog';

export interface ObjectPresenter {
  format: FormatName;
  kind: 'object';
  present(e: WireEvent, ctx: PresentContext): Record<string, unknown>;
}

export interface TextPresenter {
  format: FormatName;
  kind: 'text';
  present(e: WireEvent, ctx: PresentContext): string;
}

export type Presenter = ObjectPresenter | TextPresenter;
