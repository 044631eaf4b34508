// Failed portal logins, counted per client address: after MAX_FAILURES wrong
// tokens within WINDOW_MS, that address is refused (429, Retry-After) until
// the window of its oldest failure has passed, even with the right token (a
// guesser must not learn that the token it sent was right). The token is 256
// random bits, so this is not what keeps it secret; it keeps a guesser from
// filling the daemon's log and using its CPU, and makes a leaked-token spray
// from one address slow. Per address, not global: a global lockout would let
// anyone lock the operator out. Memory is bounded: addresses whose failures
// are all old are forgotten, and at most MAX_ADDRESSES are tracked (the
// oldest entry goes first).
export const MAX_FAILURES = 5;
export const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 10_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = MAX_FAILURES,
    private readonly windowMs = WINDOW_MS,
  ) {}

  private recent(addr: string): number[] {
    const t = this.now();
    const list = (this.failures.get(addr) ?? []).filter((at) => t - at < this.windowMs);
    if (list.length === 0) this.failures.delete(addr);
    else this.failures.set(addr, list);
    return list;
  }

  /** Seconds until `addr` may try again, or 0 when it may now. */
  retryAfter(addr: string): number {
    const list = this.recent(addr);
    if (list.length < this.max) return 0;
    return Math.max(1, Math.ceil((list[0]! + this.windowMs - this.now()) / 1000));
  }

  failed(addr: string): void {
    const list = this.recent(addr);
    list.push(this.now());
    this.failures.delete(addr); // re-inserted last: Map order is the eviction order
    this.failures.set(addr, list);
    while (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(addr: string): void {
    this.failures.delete(addr);
  }
}
