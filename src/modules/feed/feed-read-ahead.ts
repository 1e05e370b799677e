/**
 * Read-ahead for a SIEM draining a backlog. When a page answers HasMore, the next page (the one its
 * NextCursor asks for) is read and serialized at once, while the SIEM is still receiving and parsing
 * this one; the SIEM's next poll, if it names that cursor with the same parameters, is answered from it.
 * A sequential poller then waits for the larger of the two sides' work instead of their sum.
 *
 * Why this keeps the feed's promises:
 * - A prepared page is exactly what a poll at the moment of preparation would have answered: the same
 *   readFeedPage, below the visibility horizon of that moment. Its NextCursor is its own, so the chain
 *   of cursors never skips or repeats (a poll answered a little earlier is still a correct poll).
 * - Nothing is served from here before the request has passed every check: key, address, revocation,
 *   rate limit, parameters. The poll record is written for every answer, prepared or not.
 * - One chain per (tenant, key), matched on the exact cursor text and parameters; another key or
 *   tenant can never be answered from it. Chains expire after `ttlMs`; their number and depth are
 *   bounded (memory: depth x page size x owners).
 * - Reads only: a failed read-ahead is forgotten and the poll reads afresh (and gets the real error).
 */
export interface PreparedBody {
  /** The page as sent: gzip bytes, or the JSON text's UTF-8 bytes when the poller did not accept gzip. */
  payload: Buffer;
  gzip: boolean;
}

export interface PreparedPage {
  eventCount: number;
  hasMore: boolean;
  nextCursor: string;
  /** The log the page was read from, and the Seqs it covered (for the poll record). */
  log: string;
  firstSeq: number | null;
  lastSeq: number | null;
  nextSeq: number;
  body: PreparedBody;
}

/** A page to prepare: where it starts, and the request text (cursor and parameters) that asks for it. */
export interface NextPage<C> {
  cursor: C;
  request: string;
}

/** A page read, not yet serialized. */
export interface ReadResult<C> {
  head: Omit<PreparedPage, 'body'>;
  /** The page after it; null when this one answers HasMore: false. */
  next: NextPage<C> | null;
  /** Serialize it (called once the read after it has been issued). */
  finish(): Promise<PreparedPage>;
}

export type ReadPage<C> = (cursor: C) => Promise<ReadResult<C>>;

interface Slot {
  request: string;
  page: Promise<PreparedPage | null>;
}

interface Chain<C> {
  /** The request text of the NextCursor last answered to this owner. */
  issued: string | null;
  /** Pages prepared or under way, in cursor order. */
  slots: Slot[];
  /** The page after the last slot, held back while `depth` pages are ahead. */
  waiting: NextPage<C> | null;
  read: ReadPage<C> | null;
  alive: boolean;
  timer: NodeJS.Timeout;
}

export interface ReadAheadOptions {
  enabled: boolean;
  /** Pages prepared ahead of what a poller has taken. */
  depth?: number;
  /**
   * Page reads under way at once, all owners together: a page read holds up to one pooled database
   * connection per source table, and polls, sign-ins and poll records must not wait behind guesses.
   */
  maxReads?: number;
  /** Owners (keys) with a chain at once; the least recently active is dropped first. */
  maxOwners?: number;
  /** A chain nobody polls for this long is dropped. */
  ttlMs?: number;
  onError?: (err: unknown) => void;
  /** Called for every page a chain has prepared. */
  onPrepared?: () => void;
}

/**
 * Chains of prepared pages, one per owner (tenant and key). A chain starts only when a poll follows
 * the NextCursor this owner was last given (a sequential reader, as a SIEM draining a backlog is), so a
 * poller that jumps between cursors costs no speculative reads, as with a file system's read-ahead.
 */
export function createReadAhead<C>(options: ReadAheadOptions) {
  const { enabled, depth = 2, maxOwners = 16, maxReads = 1, ttlMs = 10_000 } = options;
  const chains = new Map<string, Chain<C>>();
  /** Page reads under way (each may hold a database connection per source table), and those waiting. */
  let reading = 0;
  const queue: Array<() => void> = [];
  const running = new Set<Promise<unknown>>();
  let closed = false;

  function drop(owner: string) {
    const chain = chains.get(owner);
    if (!chain) return;
    chain.alive = false;
    chain.slots = [];
    chain.waiting = null;
    clearTimeout(chain.timer);
    chains.delete(owner);
  }

  function touch(owner: string, chain: Chain<C>) {
    chains.delete(owner);
    chains.set(owner, chain);
    chain.timer.refresh();
  }

  /** A turn to read (FIFO), at most maxReads at once. */
  function acquire(): Promise<void> {
    if (reading < maxReads) {
      reading += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  }
  function release() {
    const next = queue.shift();
    if (next) next();
    else reading -= 1;
  }

  function launch(chain: Chain<C>, from: NextPage<C>) {
    const read = chain.read!;
    const page = acquire()
      .then(async () => {
        // Dropped while waiting for its turn: not read at all.
        if (!chain.alive) {
          release();
          return null;
        }
        try {
          return await read(from.cursor);
        } finally {
          release();
        }
      })
      .then((result) => {
        if (!result) return null;
        if (result.next) {
          if (chain.alive && chain.slots.length < depth) launch(chain, result.next);
          else if (chain.alive) chain.waiting = result.next;
        }
        // A chain dropped while this page was read (ttl, eviction, a poller gone elsewhere, close):
        // nobody will take it, so it is not serialized.
        if (!chain.alive) return null;
        return result.finish();
      })
      .then((prepared) => {
        if (prepared) options.onPrepared?.();
        return prepared;
      })
      .catch((err: unknown) => {
        try {
          options.onError?.(err);
        } catch {
          // a failing observer must not turn a forgotten read into an unhandled rejection
        }
        return null;
      });
    running.add(page);
    void page.finally(() => running.delete(page));
    chain.slots.push({ request: from.request, page });
  }

  return {
    /**
     * The page prepared for exactly this request of this owner, if one is ready or under way; null
     * when there is none (or its read failed): read afresh. Taking a page lets the chain read on.
     */
    async take(owner: string, request: string): Promise<PreparedPage | null> {
      const chain = chains.get(owner);
      const slot = chain?.slots[0];
      if (!chain || !slot || slot.request !== request) return null;
      chain.slots.shift();
      touch(owner, chain);
      if (chain.waiting && chain.slots.length < depth) {
        const next = chain.waiting;
        chain.waiting = null;
        launch(chain, next);
      }
      return slot.page;
    },
    /**
     * After a poll was answered. `asked`: the request text it named (null without a cursor); `issued`:
     * the request text of the NextCursor it answered (null when HasMore was false); `next`: where a
     * chain would start (fresh reads only); `taken`: whether take() answered it.
     */
    follow(
      owner: string,
      answer: { asked: string | null; issued: string | null; next: NextPage<C> | null; taken: boolean },
      read: ReadPage<C>,
    ): void {
      // Disabled: no chain is ever kept, so take() never answers.
      if (!enabled || closed) return;
      const chain = chains.get(owner);
      if (answer.taken && chain) {
        chain.issued = answer.issued;
        return;
      }
      const sequential = chain !== undefined && answer.asked !== null && chain.issued === answer.asked;
      drop(owner);
      if (answer.issued === null) return;
      while (chains.size >= maxOwners) drop(chains.keys().next().value!);
      const fresh: Chain<C> = {
        issued: answer.issued,
        slots: [],
        waiting: null,
        read,
        alive: true,
        timer: setTimeout(() => {
          if (chains.get(owner) === fresh) drop(owner);
        }, ttlMs).unref(),
      };
      chains.set(owner, fresh);
      if (sequential && answer.next) launch(fresh, answer.next);
    },
    /** Stop every chain and wait for the reads under way (before the database closes). */
    async close(): Promise<void> {
      closed = true;
      for (const owner of [...chains.keys()]) drop(owner);
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    /** Pages prepared or under way, all owners (for tests and metrics). */
    get pending(): number {
      let n = 0;
      for (const chain of chains.values()) n += chain.slots.length;
      return n;
    },
  };
}

export type ReadAhead<C> = ReturnType<typeof createReadAhead<C>>;

/**
 * Whether the request accepts a gzip body (RFC 9110 §12.5.3: `gzip` or `*`, not with q=0), as
 * @fastify/compress would decide for the rest of the app.
 */
export function acceptsGzip(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['x-no-compression'] !== undefined) return false;
  const raw = headers['accept-encoding'];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (!value) return false;
  let star = false;
  for (const part of value.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (name === 'gzip') return weight > 0;
    if (name === '*') star = weight > 0;
  }
  return star;
}
