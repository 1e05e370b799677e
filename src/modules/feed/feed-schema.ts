import { Type } from '@fastify/type-provider-typebox';
import { EVENT_TYPE_LIST, OUTCOMES, SEVERITIES, SOURCE_TABLES } from '../audit/event-types.js';

export const FeedQuery = Type.Object(
  {
    /** The previous response's NextCursor, verbatim. Takes precedence over since. */
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: "the previous response's NextCursor, verbatim",
      }),
    ),
    /** First poll only: events at or after this instant. */
    since: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'ISO 8601 instant, e.g. 2026-04-25T00:00:00Z; no zone = UTC; a bare date = midnight UTC',
      }),
    ),
    /** Most events to return. */
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 5000, description: 'an integer from 1 to 5000, default 5000' }),
    ),
    /** Comma-separated event types; a prefix such as Login.* matches its category. */
    eventType: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description:
          'comma-separated EventTypes such as Login.Failure,Access.Denied, or a prefix such as Login.*',
      }),
    ),
  },
  { additionalProperties: false },
);

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);

/** A string from a fixed list, as `{type: string, enum}` (what OpenAPI 3.0 client generators expect). */
const OneOf = (values: readonly string[], description: string) =>
  Type.Unsafe<string>({ type: 'string', enum: [...new Set(values)], description });

export const EventEnvelopeSchema = Type.Object({
  /** SourceTable:PrimaryKey, globally unique and stable. */
  Id: Type.String(),
  /** ISO 8601 UTC with milliseconds and Z. */
  Timestamp: Type.String(),
  /** The event type, from the one registry (audit/event-types.ts). */
  EventType: OneOf(
    EVENT_TYPE_LIST.map((t) => t.type),
    'the event type (Audit.SiemPoll only when asked for by name)',
  ),
  /** The event type's category. */
  Category: OneOf(
    EVENT_TYPE_LIST.map((t) => t.category),
    "the event type's category",
  ),
  Severity: OneOf(SEVERITIES, 'the severity'),
  Outcome: OneOf(OUTCOMES, 'the outcome'),
  /** The table the event is stored in. */
  SourceTable: OneOf(
    SOURCE_TABLES.map((t) => t.name),
    'the table the event is stored in',
  ),
  /** The event's position in its tenant's log, gap-free from 0: on every feed event. */
  Seq: Type.Optional(
    Type.Integer({ minimum: 0, description: "the event's position in its log (on every feed event)" }),
  ),
  /** Who acted. */
  Actor: Type.Object({
    UserId: Nullable(Type.Integer()),
    Username: Nullable(Type.String()),
    ClientId: Nullable(Type.String()),
  }),
  /** What was acted on. */
  Target: Type.Object({
    Type: Nullable(Type.String()),
    Id: Nullable(Type.String()),
    Name: Nullable(Type.String()),
  }),
  /** Client address. */
  Ip: Nullable(Type.String()),
  /** Client user agent. */
  UserAgent: Nullable(Type.String()),
  /** CMMC / NIST 800-53 / 800-171 controls the event evidences. */
  Controls: Type.Array(Type.String()),
  /** The source row's own fields, camelCase, never secrets. */
  Details: Type.Object({}, { additionalProperties: true }),
});

export const FeedResponse = Type.Object({
  /** Up to limit events, in timestamp order across tables. */
  Events: Type.Array(EventEnvelopeSchema),
  /** Send verbatim as cursor on the next poll; present on every page, also an empty one. */
  NextCursor: Type.String(),
  /** True when a backlog remains: poll again at once. */
  HasMore: Type.Boolean(),
  /** A signed checkpoint (C2SP tlog-checkpoint) whose tree covers the page's last Seq. */
  Checkpoint: Type.String({ description: "a signed checkpoint covering the page's last Seq" }),
});
