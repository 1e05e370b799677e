import { Type, type Static } from '@fastify/type-provider-typebox';
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
    /** The wire format of each event (SPEC §9); the page shape and the cursor are the same for all. */
    format: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 32,
        description:
          'json (default: the envelope), ocsf, ecs (JSON objects), cef, leef, syslog (one string per event)',
      }),
    ),
  },
  { additionalProperties: false },
);

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);

/** A string from a fixed list, as `{type: string, enum}` (what OpenAPI 3.0 client generators expect). */
const OneOf = <T extends string>(values: readonly T[], description: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...new Set(values)], description });

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
  Details: Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true })),
});

/**
 * The envelope's one type (SPEC §2), derived from its schema: the presenters, the wire formats and the
 * web UI (`import type`) all use this, so a field added to the schema reaches each of them.
 */
export type EventEnvelope = Static<typeof EventEnvelopeSchema>;

/** A feed event in an object format other than json (ocsf, ecs): a JSON object carrying Id and Seq. */
const FormattedObject = Type.Object(
  {},
  { additionalProperties: true, description: 'an event in the ocsf or ecs format (format=ocsf|ecs)' },
);
/** A feed event in a text format: one line, no trailing newline. */
const FormattedText = Type.String({ description: 'an event in the cef, leef or syslog format' });

export const FeedResponse = Type.Object({
  /** Up to limit events, in Seq order; the envelope, or the event in the format asked for. */
  Events: Type.Array(Type.Union([EventEnvelopeSchema, FormattedObject, FormattedText])),
  /** Send verbatim as cursor on the next poll; present on every page, also an empty one. */
  NextCursor: Type.String(),
  /** True when a backlog remains: poll again at once. */
  HasMore: Type.Boolean(),
  /** A signed checkpoint (C2SP tlog-checkpoint) whose tree covers the page's last Seq. */
  Checkpoint: Type.String({ description: "a signed checkpoint covering the page's last Seq" }),
});
