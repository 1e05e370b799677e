/**
 * Refusals are recorded (Access.Denied), but a flood of them must not flood the audit trail or cost a
 * database write each. Per bucket (a key and reason, a user and route, ...) and one-minute window,
 * shared by every node: the first refusal is recorded in full; then one summary record at the 10th,
 * 100th, 1,000th, ... refusal of the window says how many like it were not recorded since the record
 * before. A minute of 500 refusals gives 3 records, not 500; the first of each kind is never lost.
 */
import type { RateLimiter } from '../siem-keys/rate-limit.js';

export interface RefusalAdmission {
  /** Write the record now. */
  record: boolean;
  /** Refusals of this bucket and window not recorded since the previous record (0 for the first). */
  suppressed: number;
  /** Refusals of this bucket in the current window, this one included. */
  count: number;
  retryAfterSeconds: number;
}

/** What a record adds to its Details when it is a summary (nothing for the first of a window). */
export function summaryDetails(admission: RefusalAdmission): { suppressed?: number; windowCount?: number } {
  return admission.suppressed > 0 ? { suppressed: admission.suppressed, windowCount: admission.count } : {};
}

export function createRefusalThrottle(counter: RateLimiter) {
  return {
    async admit(tenantId: number, bucket: string, now: number): Promise<RefusalAdmission> {
      const hit = await counter.hit(tenantId, bucket, now);
      const count = hit.count;
      const power = count >= 10 && /^10+$/.test(String(count));
      return {
        record: count === 1 || power,
        suppressed: power ? count - count / 10 - 1 : 0,
        count,
        retryAfterSeconds: hit.retryAfterSeconds,
      };
    },
  };
}

export type RefusalThrottle = ReturnType<typeof createRefusalThrottle>;
