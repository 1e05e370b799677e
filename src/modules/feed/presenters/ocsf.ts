/**
 * OCSF 1.8.0 (SPEC §9): one event class per EventType, every record valid against the 1.8.0 schema
 * (test/conformance/ocsf.test.ts checks it with a validator over the schema files).
 *
 * | EventType                   | class                         | activity                                  |
 * |-----------------------------|-------------------------------|-------------------------------------------|
 * | Login.Success/Failure       | Authentication 3002           | Logon 1                                   |
 * | Login.Logout                | Authentication 3002           | Logoff 2                                  |
 * | Access.Object               | API Activity 6003             | Read 2                                    |
 * | Access.Denied               | API Activity 6003             | from the request's method; status Failure |
 * | Audit.SiemPoll              | API Activity 6003             | Read 2 (GET /api/siem/events)             |
 * | PolicyChange, AdminAction   | Entity Management 3004        | Create 1 / Update 3 / Delete 4            |
 * | AdminAction on a User       | Account Change 3001           | from Details.action                       |
 *
 * Rules:
 * - `type_uid = class_uid * 100 + activity_id`; `time` is epoch ms; `metadata.uid` is the envelope's
 *   `Id`, `metadata.sequence` its `Seq`, `metadata.tenant_uid` the tenant, `metadata.version` "1.8.0".
 * - What no OCSF attribute holds (Category, Controls, Details, the envelope's Outcome) goes to
 *   `unmapped`, so the record carries everything the envelope does and nothing more.
 * - A required object whose source field is empty (no user on a blocked address's request, no client
 *   address on a CLI action) says so: a user named "unknown" with type Unknown, the portal's own host
 *   as the endpoint (an event with no client address originated on the portal itself).
 */
import type { ObjectPresenter, PresentContext, WireEvent } from './presenter.js';

export const OCSF_VERSION = '1.8.0';

const SEVERITY: Record<string, [number, string]> = {
  info: [1, 'Informational'],
  warning: [3, 'Medium'],
  critical: [5, 'Critical'],
};

interface OcsfClass {
  categoryUid: number;
  categoryName: string;
  classUid: number;
  className: string;
}

const AUTHENTICATION: OcsfClass = {
  categoryUid: 3,
  categoryName: 'Identity & Access Management',
  classUid: 3002,
  className: 'Authentication',
};
const ACCOUNT_CHANGE: OcsfClass = { ...AUTHENTICATION, classUid: 3001, className: 'Account Change' };
const ENTITY_MANAGEMENT: OcsfClass = { ...AUTHENTICATION, classUid: 3004, className: 'Entity Management' };
const API_ACTIVITY: OcsfClass = {
  categoryUid: 6,
  categoryName: 'Application Activity',
  classUid: 6003,
  className: 'API Activity',
};

type Json = Record<string, unknown>;

/** Drops null and undefined members (OCSF has no null: an attribute is present or absent). */
function compact<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === null || o[k] === undefined) delete o[k];
  return o;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function userOf(userId: number | null, name: string | null): Json {
  if (userId === null && name === null) return { name: 'unknown', type_id: 0, type: 'Unknown' };
  return compact({ name, uid: userId === null ? null : String(userId) });
}

/** The client's endpoint; the portal's own host when the event has no client address. */
function srcEndpoint(e: WireEvent, ctx: PresentContext): Json {
  return e.Ip ? { ip: e.Ip } : { hostname: ctx.host };
}

const API_METHOD: Record<string, [number, string]> = {
  GET: [2, 'Read'],
  HEAD: [2, 'Read'],
  POST: [1, 'Create'],
  PUT: [3, 'Update'],
  PATCH: [3, 'Update'],
  DELETE: [4, 'Delete'],
};

/** A denial's API activity: the method of the refused request when the event names it. */
function deniedActivity(e: WireEvent): [number, string] {
  const named = str(e.Details.method) ?? /^([A-Z]+) /.exec(e.Target.Name ?? '')?.[1] ?? null;
  if (named && API_METHOD[named]) return API_METHOD[named];
  // A refused SIEM key was polling the feed: a read.
  if (e.Target.Type === 'SiemKey') return [2, 'Read'];
  return [0, 'Unknown'];
}

const ACCOUNT_ACTIVITY: Record<string, [number, string]> = {
  'user.created': [1, 'Create'],
  'user.enabled': [2, 'Enable'],
  'user.password_changed': [3, 'Password Change'],
  'user.password_reset': [4, 'Password Reset'],
  'user.disabled': [5, 'Disable'],
  'user.deleted': [6, 'Delete'],
  'user.locked': [9, 'Lock'],
  'user.totp_enrolled': [10, 'MFA Factor Enable'],
  'user.totp_removed': [11, 'MFA Factor Disable'],
  'user.unlocked': [12, 'Unlock'],
};

/** Create when there was nothing before, Delete when nothing is left, Update otherwise. */
function entityActivity(e: WireEvent): [number, string] {
  const { before, after } = e.Details;
  if (before === null && after !== undefined && after !== null) return [1, 'Create'];
  if (after === null && before !== undefined && before !== null) return [4, 'Delete'];
  return [3, 'Update'];
}

function classify(e: WireEvent): { cls: OcsfClass; activity: [number, string] } {
  switch (e.EventType) {
    case 'Login.Success':
    case 'Login.Failure':
      return { cls: AUTHENTICATION, activity: [1, 'Logon'] };
    case 'Login.Logout':
      return { cls: AUTHENTICATION, activity: [2, 'Logoff'] };
    case 'Access.Object':
    case 'Audit.SiemPoll':
      return { cls: API_ACTIVITY, activity: [2, 'Read'] };
    case 'Access.Denied':
      return { cls: API_ACTIVITY, activity: deniedActivity(e) };
    default:
      if (e.EventType === 'AdminAction' && e.Target.Type === 'User') {
        return {
          cls: ACCOUNT_CHANGE,
          activity: ACCOUNT_ACTIVITY[str(e.Details.action) ?? ''] ?? [99, 'Other'],
        };
      }
      return { cls: ENTITY_MANAGEMENT, activity: entityActivity(e) };
  }
}

function classFields(e: WireEvent, ctx: PresentContext, cls: OcsfClass): Json {
  const actorUser = userOf(e.Actor.UserId, e.Actor.Username);
  const src = srcEndpoint(e, ctx);
  const httpRequest = e.UserAgent ? { http_request: { user_agent: e.UserAgent } } : {};
  const service = { name: 'IT Portal', version: ctx.productVersion };
  switch (cls.classUid) {
    case AUTHENTICATION.classUid:
      return {
        user: actorUser,
        service,
        dst_endpoint: { hostname: ctx.host },
        ...(e.Ip ? { src_endpoint: { ip: e.Ip } } : {}),
        ...httpRequest,
      };
    case API_ACTIVITY.classUid: {
      const actor: Json =
        e.Actor.UserId === null && e.Actor.Username === null && e.Actor.ClientId !== null
          ? { app_uid: e.Actor.ClientId, app_name: 'SIEM key' }
          : { user: actorUser };
      const operation =
        e.EventType === 'Audit.SiemPoll' || e.Target.Type === 'SiemKey'
          ? 'GET /api/siem/events'
          : e.EventType === 'Access.Denied'
            ? (e.Target.Name ?? str(e.Details.route) ?? `access ${e.Target.Type ?? 'object'}`)
            : `read ${e.Target.Type ?? 'object'}`;
      const resource = compact({ type: e.Target.Type, uid: e.Target.Id, name: e.Target.Name });
      return {
        actor,
        api: { operation, service },
        src_endpoint: src,
        ...(resource.uid !== undefined || resource.name !== undefined ? { resources: [resource] } : {}),
        ...httpRequest,
      };
    }
    case ACCOUNT_CHANGE.classUid:
      return {
        user: compact({ name: e.Target.Name, uid: e.Target.Id ?? (e.Target.Name ? null : 'unknown') }),
        actor: { user: actorUser },
        src_endpoint: src,
        ...httpRequest,
      };
    default: {
      const { before, after } = e.Details;
      const data = before !== undefined || after !== undefined ? { before, after } : null;
      return {
        entity: compact({
          name: e.Target.Name ?? (e.Target.Id === null ? (e.Target.Type ?? e.EventType) : null),
          uid: e.Target.Id,
          type: e.Target.Type,
          data,
        }),
        actor: { user: actorUser },
        src_endpoint: src,
        ...httpRequest,
      };
    }
  }
}

export function presentOcsf(e: WireEvent, ctx: PresentContext): Json {
  const { cls, activity } = classify(e);
  const [activityId, activityName] = activity;
  const [severityId, severity] = SEVERITY[e.Severity] ?? [0, 'Unknown'];
  const success = e.Outcome === 'success';
  const reason = str(e.Details.reason);
  return {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: cls.categoryUid,
    category_name: cls.categoryName,
    class_uid: cls.classUid,
    class_name: cls.className,
    type_uid: cls.classUid * 100 + activityId,
    type_name: `${cls.className}: ${activityName}`,
    severity_id: severityId,
    severity,
    status_id: success ? 1 : 2,
    status: success ? 'Success' : 'Failure',
    ...(success ? {} : { status_detail: reason ?? e.Outcome }),
    ...(reason && !success ? { status_code: reason } : {}),
    time: Date.parse(e.Timestamp),
    timezone_offset: 0,
    message: `${e.EventType} (${e.Outcome})`,
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'IT Portal', vendor_name: 'IT Portal', version: ctx.productVersion },
      uid: e.Id,
      sequence: e.Seq,
      tenant_uid: String(ctx.tenantId),
      log_name: e.SourceTable,
      event_code: e.EventType,
      original_time: e.Timestamp,
    },
    ...classFields(e, ctx, cls),
    unmapped: {
      Category: e.Category,
      Controls: e.Controls,
      Outcome: e.Outcome,
      Target: e.Target,
      Actor: e.Actor,
      Details: e.Details,
    },
  };
}

export const ocsfPresenter: ObjectPresenter = { format: 'ocsf', kind: 'object', present: presentOcsf };
