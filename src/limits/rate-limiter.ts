import { DurableObject } from "cloudflare:workers";
import { MINUTE } from "../lib/clock";

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the current window ends (the next UTC minute). */
  resetAt: number;
}

/** What the `/v1` middleware needs; the Durable Object below is the real one. */
export interface Limiter {
  hit(accountId: string, limit: number, now: number): Promise<RateLimitResult>;
}

interface WindowState {
  window: number;
  count: number;
}

/**
 * One instance per account: a fixed window per UTC calendar minute. A Durable Object runs
 * one request at a time, so the count is exact under any concurrency. The caller passes
 * `now` (its injected clock), which keeps the window testable without sleeping.
 */
export class RateLimiter extends DurableObject<Env> {
  private state: WindowState;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Persisted so an evicted or restarted object does not forget the minute's count.
    this.state = ctx.storage.kv.get<WindowState>("window") ?? { window: -1, count: 0 };
  }

  hit(limit: number, now: number): RateLimitResult {
    const window = Math.floor(now / MINUTE);
    // A request stamped in an older minute (clock skew) counts against the current one.
    if (window > this.state.window) this.state = { window, count: 0 };
    const allowed = this.state.count < limit;
    if (allowed) {
      this.state = { window: this.state.window, count: this.state.count + 1 };
      this.ctx.storage.kv.put("window", this.state);
    }
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - this.state.count),
      resetAt: (this.state.window + 1) * MINUTE,
    };
  }
}

export function durableObjectLimiter(ns: DurableObjectNamespace<RateLimiter>): Limiter {
  return {
    hit: async (accountId, limit, now) => {
      const result = await ns.get(ns.idFromName(accountId)).hit(limit, now);
      return { ...result };
    },
  };
}
