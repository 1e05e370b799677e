/**
 * Elastic Common Schema 9.x (SPEC §9): nested JSON objects, every field an ECS field with its type and
 * allowed values (ecs.test.ts checks each record against the EcsFlat definitions of @elastic/ecs).
 *
 * | EventType            | event.category  | event.type                               | event.outcome |
 * |----------------------|-----------------|------------------------------------------|---------------|
 * | Login.Success        | authentication  | start                                    | success       |
 * | Login.Failure        | authentication  | start                                    | failure       |
 * | Login.Logout         | authentication  | end                                      | success       |
 * | Access.Object        | api             | access                                   | success       |
 * | Access.Denied        | api             | access, denied                           | failure       |
 * | Audit.SiemPoll       | api             | access                                   | success       |
 * | PolicyChange         | configuration   | creation / change / deletion             | as recorded   |
 * | AdminAction (User)   | iam             | user + creation / change / deletion      | as recorded   |
 * | AdminAction (other)  | iam             | admin                                    | as recorded   |
 *
 * Rules:
 * - `event.id` is the envelope's `Id`, `event.sequence` its `Seq`, `event.provider` the SourceTable,
 *   `event.action` the EventType, `organization.id` the tenant.
 * - ECS has no field for Controls, Target (other than a user) or Details: the whole envelope is kept as
 *   `event.original` (JSON text, ECS's place for the event as the source had it), and Category,
 *   Controls and Target are also `labels` (keyword values) so they can be searched.
 * - ECS's outcome has no "denied": a denial is `failure` with `denied` in `event.type`.
 */
import type { ObjectPresenter, PresentContext, WireEvent } from './presenter.js';

/** The ECS release the mapping was checked against (ecs.test.ts compares it with @elastic/ecs). */
export const ECS_VERSION = '9.4.0';

const SEVERITY: Record<string, number> = { info: 1, warning: 3, critical: 5 };

type Json = Record<string, unknown>;

function changeType(e: WireEvent): 'creation' | 'change' | 'deletion' {
  const { before, after } = e.Details;
  if (before === null && after !== undefined && after !== null) return 'creation';
  if (after === null && before !== undefined && before !== null) return 'deletion';
  const action = typeof e.Details.action === 'string' ? e.Details.action : '';
  if (/\.(created|enrolled)$/.test(action)) return 'creation';
  if (/\.deleted$/.test(action)) return 'deletion';
  return 'change';
}

function categorize(e: WireEvent): { category: string[]; type: string[] } {
  switch (e.EventType) {
    case 'Login.Success':
    case 'Login.Failure':
      return { category: ['authentication'], type: ['start'] };
    case 'Login.Logout':
      return { category: ['authentication'], type: ['end'] };
    case 'Access.Denied':
      return { category: ['api'], type: ['access', 'denied'] };
    case 'Access.Object':
    case 'Audit.SiemPoll':
      return { category: ['api'], type: ['access'] };
    case 'PolicyChange':
      return { category: ['configuration'], type: [changeType(e)] };
    default:
      return e.Target.Type === 'User'
        ? { category: ['iam'], type: ['user', changeType(e)] }
        : { category: ['iam'], type: ['admin'] };
  }
}

/** The object without its null and undefined members; undefined when none is left. */
function present(o: Json): Json | undefined {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function presentEcs(e: WireEvent, ctx: PresentContext): Json {
  const { category, type } = categorize(e);
  const reason = typeof e.Details.reason === 'string' ? e.Details.reason : undefined;
  const user = present({
    id: e.Actor.UserId === null ? null : String(e.Actor.UserId),
    name: e.Actor.Username,
    target: e.Target.Type === 'User' ? present({ id: e.Target.Id, name: e.Target.Name }) : undefined,
  });
  const record: Json = {
    '@timestamp': e.Timestamp,
    ecs: { version: ECS_VERSION },
    message: `${e.EventType} (${e.Outcome})`,
    event: {
      kind: 'event',
      category,
      type,
      outcome: e.Outcome === 'success' ? 'success' : 'failure',
      action: e.EventType,
      id: e.Id,
      sequence: e.Seq,
      provider: e.SourceTable,
      severity: SEVERITY[e.Severity] ?? 0,
      ...(reason ? { reason } : {}),
      original: JSON.stringify(e),
    },
    log: { level: e.Severity },
    organization: { id: String(ctx.tenantId) },
    service: { name: 'IT Portal', version: ctx.productVersion },
    labels: present({
      category: e.Category,
      controls: e.Controls.join(','),
      target_type: e.Target.Type,
      target_id: e.Target.Id,
      target_name: e.Target.Name,
      client_id: e.Actor.ClientId,
    }),
  };
  if (user) record.user = user;
  if (e.Ip) record.source = { ip: e.Ip };
  if (e.UserAgent) record.user_agent = { original: e.UserAgent };
  return record;
}

export const ecsPresenter: ObjectPresenter = { format: 'ecs', kind: 'object', present: presentEcs };
