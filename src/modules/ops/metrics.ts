/** Prometheus metrics (prom-client), one registry per app instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LAST_POLL_KEYS = 100;

export function createMetrics(withDefaults = true) {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'itportal_' });
  const sources: { horizonHeldSeconds: (() => Promise<number>) | null } = { horizonHeldSeconds: null };
  const lastPoll = new Gauge({
    name: 'itportal_siem_key_last_poll_timestamp_seconds',
    help: 'Unix time of the last successful poll per SIEM key answered by this node (the 100 keys polled most recently; take max() across nodes)',
    labelNames: ['key_id'] as const,
    registers: [registry],
  });
  /** The keys with a last-poll series, least recently polled first (at most LAST_POLL_KEYS). */
  const polledKeys = new Set<string>();
  return {
    registry,
    /** Where the horizon gauge reads its value at each scrape. */
    sources,
    horizonHeld: new Gauge({
      name: 'itportal_feed_horizon_held_seconds',
      help: 'How long the oldest running transaction of this database has held the SIEM feed back (0: not held); the holder is named in /readyz and the log',
      registers: [registry],
      async collect() {
        const read = sources.horizonHeldSeconds;
        if (read) this.set(await read().catch(() => 0));
      },
    }),
    polls: new Counter({
      name: 'itportal_siem_polls_total',
      help: 'SIEM feed polls, by outcome: success, or the error code of the answer (invalid_cursor, unauthorized, rate_limited, database_unavailable, ...)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    eventsServed: new Counter({
      name: 'itportal_siem_events_served_total',
      help: 'Events returned by the SIEM feed',
      registers: [registry],
    }),
    pollLatency: new Histogram({
      name: 'itportal_siem_poll_duration_seconds',
      help: 'Time to answer a successful SIEM feed poll',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    readAhead: new Counter({
      name: 'itportal_siem_read_ahead_pages_total',
      help: 'Feed pages read ahead for a draining SIEM: prepared, served to its next poll, failed (read afresh)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    /** Sets a key's last-poll time, keeping at most LAST_POLL_KEYS label values (the least recent go). */
    markKeyPolled(keyId: string, at: number): void {
      polledKeys.delete(keyId);
      polledKeys.add(keyId);
      lastPoll.set({ key_id: keyId }, Math.floor(at / 1000));
      for (const oldest of polledKeys) {
        if (polledKeys.size <= LAST_POLL_KEYS) break;
        polledKeys.delete(oldest);
        lastPoll.remove({ key_id: oldest });
      }
    },
    refusals: new Counter({
      name: 'itportal_siem_refusals_total',
      help: 'SIEM feed polls refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
