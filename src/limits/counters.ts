import type { Account } from "../db/schema";
import { MINUTE, startOfUtcDay, startOfUtcMonth } from "../lib/clock";
import { type CaptureUsage, effectivePlan, type QuotaRefusal, quotaRefusal, subscriptionStatus } from "./subscription";

/**
 * The account as its object keeps it: its directory row, its current token's hash, and what
 * its team seats count (users, and when each pending invitation expires), so the hot path
 * reads none of it from D1.
 */
export type AccountSnapshot = Account & {
  tokenHash: string | null;
  lastUsedAt: number | null;
  users: number;
  invitationExpiries: number[];
};

/** Seats taken at `now`: the account's users and its invitations still pending. */
export const seatsAt = (account: Pick<AccountSnapshot, "users" | "invitationExpiries">, now: number) =>
  account.users + account.invitationExpiries.filter((at) => at > now).length;

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the current window ends (the next UTC minute). */
  resetAt: number;
}

export type GateResult =
  | { outcome: "unauthorized" }
  | { outcome: "subscription_expired" }
  | { outcome: "api_access_unavailable" }
  | { outcome: "rate_limited"; rate: RateLimitResult }
  | { outcome: "ok"; rate: RateLimitResult; usage: CaptureUsage };

export type ConsumeResult = { ok: true; usage: CaptureUsage } | ({ ok: false } & QuotaRefusal);

/** Capture quota as services use it: reserve (or give back) captures, read the usage. */
export interface Quota {
  consume(captures: number, now: number): ConsumeResult;
  usage(now: number): CaptureUsage;
}

interface Stored {
  window: number;
  /** Requests counted this window. */
  requests: number;
  day: number;
  dayCaptures: number;
  month: number;
  monthCaptures: number;
}

/**
 * An account's request window (fixed UTC minute) and capture quotas (UTC day and month), in
 * its object's storage. The object runs one event at a time, so counts are exact; every
 * change is written (`storage.kv`, synchronous, held back by the output gate until durable)
 * before the answer leaves, so an object evicted or restarted mid-minute resumes at exactly
 * the stored count. Callers pass `now` (their injected clock), so windows are testable.
 */
export class Counters {
  private readonly c: Stored;

  constructor(private readonly kv: SyncKvStorage) {
    const stored = kv.get<Stored & { reserved?: number }>("counters");
    if (stored) {
      // Storage from before exact counting held a lease mark (`reserved`) at or above the
      // count; for the minute it was written in, the mark is the safe count. Not written again.
      const { reserved, ...counters } = stored;
      this.c = { ...counters, requests: Math.max(counters.requests, reserved ?? 0) };
    } else {
      this.c = { window: -1, requests: 0, day: -1, dayCaptures: 0, month: -1, monthCaptures: 0 };
    }
  }

  /**
   * A `/v1` request, answered in this order: 401 (token), 403 subscription_expired, 403
   * api_access_unavailable, then the minute's count. Refusals before the count use no quota.
   */
  gate(account: AccountSnapshot | null, tokenHash: string, now: number): GateResult {
    if (!account || account.tokenHash === null || account.tokenHash !== tokenHash) return { outcome: "unauthorized" };
    if (subscriptionStatus(account, now) === "expired") return { outcome: "subscription_expired" };
    const plan = effectivePlan(account, now);
    if (!plan.apiAccess) return { outcome: "api_access_unavailable" };
    const c = this.roll(now);
    const limit = plan.requestsPerMinute;
    const allowed = c.requests < limit;
    if (allowed) {
      c.requests += 1;
      this.save();
    }
    const rate = { allowed, limit, remaining: Math.max(0, limit - c.requests), resetAt: (c.window + 1) * MINUTE };
    if (!allowed) return { outcome: "rate_limited", rate };
    return { outcome: "ok", rate, usage: { today: c.dayCaptures, thisMonth: c.monthCaptures } };
  }

  /** Binds the quota to the account's plan as it is at `now` (for services). */
  quota(account: Pick<Account, "plan" | "pendingPlan" | "pendingPlanAt">): Quota {
    return {
      consume: (captures, now) => this.consume(account, captures, now),
      usage: (now) => this.usage(now),
    };
  }

  /** Reserves `captures` against the day and month quotas, both or neither; a negative count gives back. */
  consume(
    account: Pick<Account, "plan" | "pendingPlan" | "pendingPlanAt">,
    captures: number,
    now: number,
  ): ConsumeResult {
    const c = this.roll(now);
    const refusal = quotaRefusal(
      effectivePlan(account, now),
      { today: c.dayCaptures, thisMonth: c.monthCaptures },
      captures,
      now,
    );
    if (refusal) return { ok: false, ...refusal };
    c.dayCaptures = Math.max(0, c.dayCaptures + captures);
    c.monthCaptures = Math.max(0, c.monthCaptures + captures);
    this.save();
    return { ok: true, usage: { today: c.dayCaptures, thisMonth: c.monthCaptures } };
  }

  usage(now: number): CaptureUsage {
    const c = this.roll(now);
    return { today: c.dayCaptures, thisMonth: c.monthCaptures };
  }

  /** Moves the counters to the windows `now` falls in (a late, older `now` counts in the current one). */
  private roll(now: number): Stored {
    const c = this.c;
    const window = Math.floor(now / MINUTE);
    if (window > c.window) {
      c.window = window;
      c.requests = 0;
    }
    const day = startOfUtcDay(now);
    if (day > c.day) {
      c.day = day;
      c.dayCaptures = 0;
    }
    const month = startOfUtcMonth(now);
    if (month > c.month) {
      c.month = month;
      c.monthCaptures = 0;
    }
    return c;
  }

  private save(): void {
    this.kv.put("counters", this.c);
  }
}
