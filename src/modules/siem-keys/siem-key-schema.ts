import { Type } from '@fastify/type-provider-typebox';

export const IssueKeyBody = Type.Object(
  {
    /** What the key is for, e.g. "Splunk production". */
    description: Type.String({ minLength: 1, maxLength: 200, description: 'required, 1 to 200 characters' }),
    /** Addresses allowed to poll with the key: comma-separated IPv4/IPv6 CIDRs (or a list); blank = any. */
    allowedCidrs: Type.Optional(
      Type.Union(
        [Type.String({ maxLength: 4000 }), Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })],
        {
          description: 'comma-separated CIDRs such as 10.0.0.0/24, 2001:db8::/32; blank = any address',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const KeyIdParams = Type.Object({
  /** The key's public id (the part after itp_siem_). */
  id: Type.String({ pattern: '^[0-9a-f]{16}$', description: 'a key id: 16 lowercase hex characters' }),
});

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const SiemKeySchema = Type.Object({
  /** Public key id. */
  id: Type.String(),
  /** The key's first characters, for recognizing it; never the secret. */
  keyPrefix: Type.String(),
  description: Type.String(),
  /** Normalized comma-separated CIDRs; empty = any address. */
  allowedCidrs: Type.String(),
  /** active or revoked. */
  status: Type.String(),
  createdBy: NullableString,
  createdAt: Type.String(),
  lastUsedAt: NullableString,
  lastUsedFrom: NullableString,
  revokedAt: NullableString,
  revokedBy: NullableString,
  /** The last Seq of the trail delivered to this key; null before its first delivery. */
  deliveredThroughSeq: Type.Union([Type.Integer(), Type.Null()]),
  /** When that delivery was. */
  deliveredAt: NullableString,
  /** Trail events not read by this key yet (the log head's size minus its next Seq). */
  lagEvents: Type.Union([Type.Integer(), Type.Null()]),
  /** Seconds from the last delivered event to the newest event of the trail (0 when caught up). */
  lagSeconds: Type.Union([Type.Integer(), Type.Null()]),
});

export const IssuedKeySchema = Type.Intersect([
  SiemKeySchema,
  Type.Object({
    /** The plaintext key, shown this once and never again. */
    key: Type.String(),
  }),
]);

export const PollsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, description: 'an integer from 1 to 500, default 100' }),
    ),
    /** Keyset paging: only polls older than this one (the number after `LogsSiemPoll:` of a row's id). */
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'a poll id (the number in LogsSiemPoll:<n>): the page of polls older than it',
      }),
    ),
  },
  { additionalProperties: false },
);

export const RefusalsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, description: 'an integer from 1 to 500, default 50' }),
    ),
  },
  { additionalProperties: false },
);

const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);

export const PollTotalsSchema = Type.Object({
  /** Successful polls with this key. */
  polls: Type.Integer(),
  /** Events returned, summed over the polls. */
  eventsDelivered: Type.Integer(),
  /** Events delivered to this key for the first time. */
  uniqueEvents: Type.Integer(),
  /** Events served again to this key (a retried or earlier cursor), from the polls' Seq ranges. */
  reReadEvents: Type.Integer(),
  firstPollAt: NullableString,
  lastPollAt: NullableString,
});

export const RefusalSchema = Type.Object({
  id: Type.String(),
  at: Type.String(),
  ip: NullableString,
  userAgent: NullableString,
  /** bad_secret, revoked, address_not_allowed. */
  reason: NullableString,
  /** For a summary record: refusals like it not recorded since the record before. */
  suppressed: Type.Integer(),
});

export const PollRecordSchema = Type.Object({
  id: Type.String(),
  /** When the poll was answered. */
  at: Type.String(),
  /** Where it came from. */
  ip: NullableString,
  userAgent: NullableString,
  /** Events returned. */
  eventCount: Type.Integer(),
  durationMs: Type.Integer(),
  hasMore: Type.Boolean(),
  filter: NullableString,
  /** The wire format asked for (SPEC §9; null on records from before formats). */
  format: NullableString,
  cursorIn: NullableString,
  cursorOut: NullableString,
  /** The log read: trail or polls. */
  log: NullableString,
  /** Seq of the first and last event delivered (null when none). */
  firstSeq: NullableInteger,
  lastSeq: NullableInteger,
});
