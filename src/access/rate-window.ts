/** The outcome of counting a hit: admitted (with its time, to take it back), or how long to wait. */
export type RateHit = { readonly admitted: true; readonly at: number } | { readonly admitted: false; readonly retryAfterSeconds: number };

/** One key's hits in the window, oldest first; `head` skips expired ones without shifting. */
interface Hits {
  times: number[];
  head: number;
}

/**
 * At most `limit` hits per key in any `windowMs` (a sliding log, exact): each key keeps only the
 * times of the hits it was admitted in the last window, so memory follows admitted traffic, and
 * a refused hit costs nothing. In memory and per process, like every limit here.
 */
export class RateWindow {
  private readonly keys = new Map<string, Hits>();
  private sweptAt: number;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sweptAt = now();
  }

  hit(key: string): RateHit {
    const now = this.now();
    this.sweepIdleKeys(now);
    let hits = this.keys.get(key);
    if (!hits) this.keys.set(key, (hits = { times: [], head: 0 }));
    const { times } = hits;
    const expired = now - this.windowMs;
    while (hits.head < times.length && times[hits.head] <= expired) hits.head++;
    if (hits.head > 64 && hits.head * 2 > times.length) {
      times.splice(0, hits.head);
      hits.head = 0;
    }
    const live = times.length - hits.head;
    if (live >= this.limit) {
      // One slot frees when the oldest admitted hit that keeps the count at the limit expires.
      const freesAt = times[times.length - this.limit] + this.windowMs;
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((freesAt - now) / 1000)) };
    }
    times.push(now);
    return { admitted: true, at: now };
  }

  /** Takes back a hit `hit()` admitted at `at` (a request that turned out not to count). */
  release(key: string, at: number): void {
    const hits = this.keys.get(key);
    if (!hits) return;
    const index = hits.times.lastIndexOf(at);
    if (index >= hits.head) hits.times.splice(index, 1);
  }

  /** Once a window, forgets keys with no live hits, so clients that went away cost nothing. */
  private sweepIdleKeys(now: number): void {
    if (now - this.sweptAt < this.windowMs) return;
    this.sweptAt = now;
    const expired = now - this.windowMs;
    for (const [key, hits] of this.keys) {
      if ((hits.times.at(-1) ?? -Infinity) <= expired) this.keys.delete(key);
    }
  }
}

/** Both rate limits count per minute. */
export const RATE_WINDOW_MS = 60_000;

/** The message of a rate limit's 429, the same for requests and answers. */
export function tooManyMessage(what: 'requests' | 'answers', limit: number, retryAfterSeconds: number): string {
  return `Too many ${what}: at most ${limit} a minute. Try again in ${retryAfterSeconds} s.`;
}
