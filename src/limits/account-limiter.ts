import { DurableObject } from "cloudflare:workers";
import { eq, getTableColumns } from "drizzle-orm";
import { getDb } from "../db/client";
import { type AccountRecord, accounts, apiTokens } from "../db/schema";
import { MINUTE, startOfUtcDay, startOfUtcMonth } from "../lib/clock";
import { type CaptureUsage, effectivePlan, type QuotaRefusal, quotaRefusal, subscriptionStatus } from "./subscription";

/** The account as the gate sees it: the D1 row (no password hash) plus its token hash. */
export type AccountSnapshot = AccountRecord & { tokenHash: string | null; lastUsedAt: number | null };

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
  | { outcome: "ok"; rate: RateLimitResult; account: AccountSnapshot; usage: CaptureUsage };

export type ConsumeResult = { ok: true; usage: CaptureUsage } | ({ ok: false } & QuotaRefusal);

/** What the Worker needs from the per-account object; tests substitute a failing one. */
export interface Limiter {
  gate(accountId: string, tokenHash: string, now: number): Promise<GateResult>;
  consume(accountId: string, captures: number, now: number): Promise<ConsumeResult>;
  usage(accountId: string, now: number): Promise<CaptureUsage>;
  /** Drop the cached account after a change to its token, plan or subscription. */
  invalidate(accountId: string): Promise<void>;
}

interface Counters {
  window: number;
  /** Requests counted this window; storage holds the same number (written on every count). */
  requests: number;
  day: number;
  dayCaptures: number;
  month: number;
  monthCaptures: number;
}

const LAST_USED_PRECISION = MINUTE;

/**
 * One instance per account, the authority for everything that must be exact under
 * concurrency: the per-minute request window (fixed UTC minute), the capture quotas per
 * UTC day and month, and — so a `/v1` call costs one round trip — whether the presented
 * token is the account's current one and what plan and subscription apply.
 *
 * A Durable Object runs one event at a time, so counts are exact. Every counted request is
 * written to the object's SQLite-backed storage (`ctx.storage.kv`, synchronous, held back by
 * the output gate until it is durable) before its answer leaves, so storage always holds
 * the real count: an object evicted or restarted any number of times mid-minute resumes at
 * exactly that count and answers exact `remaining`s — it neither refuses early nor allows
 * one too many. Capture quotas are written on every change the same way.
 * The account is cached in memory only, loaded from D1 on first use and dropped by
 * `invalidate()` whenever D1 changes.
 * Callers pass `now` (their injected clock) so windows are testable without sleeping.
 */
export class AccountLimiter extends DurableObject<Env> {
  private counters: Counters;
  private account: AccountSnapshot | null | undefined;
  private generation = 0;
  private accountId: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const stored = ctx.storage.kv.get<Counters & { reserved?: number }>("counters");
    if (stored) {
      // Storage from before exact counting held a lease mark (`reserved`) at or above the
      // count; for the minute it was written in, the mark is the safe count. Not written again.
      const { reserved, ...counters } = stored;
      this.counters = { ...counters, requests: Math.max(counters.requests, reserved ?? 0) };
    } else {
      this.counters = { window: -1, requests: 0, day: -1, dayCaptures: 0, month: -1, monthCaptures: 0 };
    }
  }

  async gate(accountId: string, tokenHash: string, now: number): Promise<GateResult> {
    const account = await this.load(accountId);
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
      this.touch(account, now);
    }
    const rate = { allowed, limit, remaining: Math.max(0, limit - c.requests), resetAt: (c.window + 1) * MINUTE };
    if (!allowed) return { outcome: "rate_limited", rate };
    return { outcome: "ok", rate, account, usage: { today: c.dayCaptures, thisMonth: c.monthCaptures } };
  }

  /** Reserves `captures` against the day and month quotas, both or neither. */
  async consume(accountId: string, captures: number, now: number): Promise<ConsumeResult> {
    const account = await this.load(accountId);
    if (!account) return { ok: false, period: "day", limit: 0, used: 0, resetAt: now };
    const c = this.roll(now);
    const refusal = quotaRefusal(
      effectivePlan(account, now),
      { today: c.dayCaptures, thisMonth: c.monthCaptures },
      captures,
      now,
    );
    if (refusal) return { ok: false, ...refusal };
    // A negative count gives captures back (a capture that could not be queued).
    c.dayCaptures = Math.max(0, c.dayCaptures + captures);
    c.monthCaptures = Math.max(0, c.monthCaptures + captures);
    this.save();
    return { ok: true, usage: { today: c.dayCaptures, thisMonth: c.monthCaptures } };
  }

  usage(now: number): CaptureUsage {
    const c = this.roll(now);
    return { today: c.dayCaptures, thisMonth: c.monthCaptures };
  }

  invalidate(): void {
    this.generation += 1;
    this.account = undefined;
  }

  /** Moves the counters to the windows `now` falls in (a late, older `now` counts in the current one). */
  private roll(now: number): Counters {
    const c = this.counters;
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
    this.ctx.storage.kv.put("counters", this.counters);
  }

  private async load(accountId: string): Promise<AccountSnapshot | null> {
    this.accountId ??= accountId;
    if (this.account !== undefined) return this.account;
    const generation = this.generation;
    const row = await getDb(this.env.DB)
      .select({ ...getTableColumns(accounts), tokenHash: apiTokens.tokenHash, lastUsedAt: apiTokens.lastUsedAt })
      .from(accounts)
      .leftJoin(apiTokens, eq(apiTokens.accountId, accounts.id))
      .where(eq(accounts.id, accountId))
      .get();
    const snapshot: AccountSnapshot | null = row ?? null;
    // An invalidate() that arrived while D1 answered makes this read stale: do not keep it.
    if (generation === this.generation) this.account = snapshot;
    return snapshot;
  }

  /** `last_used_at`, written to D1 at most once a minute, off the request's path. */
  private touch(account: AccountSnapshot, now: number): void {
    if (account.lastUsedAt !== null && account.lastUsedAt >= now - LAST_USED_PRECISION) return;
    account.lastUsedAt = now;
    this.ctx.waitUntil(
      this.env.DB.prepare("UPDATE api_tokens SET last_used_at = ? WHERE account_id = ? AND token_hash = ?")
        .bind(now, account.id, account.tokenHash)
        .run()
        .then(() => undefined),
    );
  }
}

/** Object ids by account (a pure function of the name; deriving one hashes it). */
const ids = new Map<string, DurableObjectId>();

export function durableObjectLimiter(ns: DurableObjectNamespace<AccountLimiter>): Limiter {
  const stub = (accountId: string) => {
    let id = ids.get(accountId);
    if (!id) {
      if (ids.size >= 10_000) ids.clear();
      id = ns.idFromName(accountId);
      ids.set(accountId, id);
    }
    return ns.get(id);
  };
  return {
    gate: async (accountId, tokenHash, now) => (await stub(accountId).gate(accountId, tokenHash, now)) as GateResult,
    consume: async (accountId, captures, now) =>
      (await stub(accountId).consume(accountId, captures, now)) as ConsumeResult,
    usage: async (accountId, now) => ({ ...(await stub(accountId).usage(now)) }),
    invalidate: async (accountId) => {
      await stub(accountId).invalidate();
    },
  };
}
