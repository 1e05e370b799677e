/** Prometheus metrics (prom-client), one registry per app instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(withDefaults = true) {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'itportal_' });
  const sources: { horizonHeldSeconds: (() => Promise<number>) | null } = { horizonHeldSeconds: null };
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
      help: 'SIEM feed polls answered, by outcome',
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
    refusals: new Counter({
      name: 'itportal_siem_refusals_total',
      help: 'SIEM feed polls refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
