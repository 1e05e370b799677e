/**
 * The one registry of event types: category, default severity, the controls each evidences, and the
 * source table that stores it. Classifications are derived here at read time, so reclassifying a type
 * needs no migration. event-types.test.ts fails on a duplicate or an unclassified type.
 */
import type { EventTableName } from '../../db/schema.js';

export type Severity = 'info' | 'warning' | 'critical';
export type Outcome = 'success' | 'denied' | 'failure';
export type Category = 'Authentication' | 'Access' | 'Policy' | 'Admin' | 'Audit';
export type SourceTable = 'LogsLogin' | 'LogsAccess' | 'LogsAdmin' | 'LogsDenied' | 'LogsSiemPoll';

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
export const OUTCOMES: readonly Outcome[] = ['success', 'denied', 'failure'];

/** Source tables in their fixed tie-break order (events in the same millisecond). */
export const SOURCE_TABLES: readonly { name: SourceTable; table: EventTableName }[] = [
  { name: 'LogsLogin', table: 'logs_login' },
  { name: 'LogsAccess', table: 'logs_access' },
  { name: 'LogsAdmin', table: 'logs_admin' },
  { name: 'LogsDenied', table: 'logs_denied' },
  { name: 'LogsSiemPoll', table: 'logs_siem_poll' },
];

export interface EventTypeInfo {
  type: string;
  category: Category;
  defaultSeverity: Severity;
  /** The controls of an event of this type whose Target.Type has no entry in controlsByTarget. */
  controls: readonly string[];
  /**
   * Controls by Target.Type, where the target decides what the event evidences (a SIEM key issued is
   * account management, not unsuccessful logon attempts). Derived at read time like the rest.
   */
  controlsByTarget?: Readonly<Record<string, readonly string[]>>;
  source: SourceTable;
  /** False for types the feed returns only when asked for by name (poll records). */
  inDefaultFeed: boolean;
}

const EVENT_TYPE_TABLE = [
  {
    type: 'Login.Success',
    category: 'Authentication',
    defaultSeverity: 'info',
    controls: ['AU-2', '3.3.1'],
    source: 'LogsLogin',
    inDefaultFeed: true,
  },
  {
    type: 'Login.Failure',
    category: 'Authentication',
    defaultSeverity: 'warning',
    controls: ['AU-2', '3.3.1'],
    source: 'LogsLogin',
    inDefaultFeed: true,
  },
  {
    type: 'Login.Logout',
    category: 'Authentication',
    defaultSeverity: 'info',
    controls: ['AU-2'],
    source: 'LogsLogin',
    inDefaultFeed: true,
  },
  {
    type: 'Access.Object',
    category: 'Access',
    defaultSeverity: 'info',
    controls: ['AU-2'],
    source: 'LogsAccess',
    inDefaultFeed: true,
  },
  {
    type: 'Access.Denied',
    category: 'Access',
    defaultSeverity: 'warning',
    controls: ['AC-7', '3.1.8'],
    source: 'LogsDenied',
    inDefaultFeed: true,
  },
  {
    type: 'PolicyChange',
    category: 'Policy',
    defaultSeverity: 'warning',
    controls: ['AC-2', 'AC-3', 'AC-7', 'IA-5'],
    controlsByTarget: {
      SiemKey: ['AC-2', 'IA-5'],
      IpRange: ['AC-3', 'SC-7'],
      PasswordPolicy: ['IA-5', 'AC-7'],
      GlobalAcl: ['AC-3', 'AC-6'],
      MfaOption: ['IA-2'],
    },
    source: 'LogsAdmin',
    inDefaultFeed: true,
  },
  {
    type: 'AdminAction',
    category: 'Admin',
    defaultSeverity: 'info',
    controls: ['AU-2'],
    source: 'LogsAdmin',
    inDefaultFeed: true,
  },
  {
    type: 'Audit.SiemPoll',
    category: 'Audit',
    defaultSeverity: 'info',
    controls: ['AU-6', 'AU-9', '3.3.1'],
    source: 'LogsSiemPoll',
    inDefaultFeed: false,
  },
] as const satisfies readonly EventTypeInfo[];

export const EVENT_TYPE_LIST: readonly EventTypeInfo[] = EVENT_TYPE_TABLE;

/** Every EventType, derived from the table above (a type added there is one here). */
export type EventType = (typeof EVENT_TYPE_TABLE)[number]['type'];

export const EVENT_TYPES: ReadonlyMap<string, EventTypeInfo> = new Map(
  EVENT_TYPE_LIST.map((e) => [e.type, e]),
);

/** Legacy LogsAdmin rows (no stored type) surface as this type, with info severity and success. */
export const LEGACY_EVENT_TYPE: EventType = 'AdminAction';

export function eventTypeInfo(type: string): EventTypeInfo {
  const info = EVENT_TYPES.get(type);
  if (!info) throw new Error(`unregistered event type ${type}`);
  return info;
}

/**
 * The controls an event evidences: its type's, refined by its Target.Type where the registry says so.
 * Every presenter (the feed's JSON, its fast path over leaves, the admin viewer) and the verifier
 * call this, so they agree.
 */
export function controlsOf(type: string, targetType: string | null | undefined): readonly string[] {
  const info = eventTypeInfo(type);
  const byTarget = info.controlsByTarget;
  // hasOwn: a Target.Type such as "constructor" must not reach Object.prototype.
  return targetType != null && byTarget && Object.hasOwn(byTarget, targetType)
    ? byTarget[targetType]!
    : info.controls;
}

export function tableOf(source: SourceTable): EventTableName {
  const entry = SOURCE_TABLES.find((t) => t.name === source);
  if (!entry) throw new Error(`unknown source table ${source}`);
  return entry.table;
}
