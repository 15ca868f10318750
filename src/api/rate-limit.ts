// Per-token request rate limit (token bucket): one misbehaving client or a leaked token cannot starve the
// others. In memory, per API process: the limit is per process, which is what protects the process.
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {}

  /** Takes one request's worth; answers the ms to wait when the bucket is empty. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const t = this.now();
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) / this.perSecond) * 1000) };
  }
}
