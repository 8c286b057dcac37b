import { DurableObject } from "cloudflare:workers";
import { iso, MINUTE, retryAfterSeconds } from "../lib/clock";
import { ApiError } from "../lib/errors";

/** Failed logins allowed per account email in any LOGIN_WINDOW (sliding). */
export const LOGIN_FAILURES_PER_EMAIL = 10;
/** Failed logins allowed per client address (IPv6: per /64) in any LOGIN_WINDOW (sliding). */
export const LOGIN_FAILURES_PER_ADDRESS = 100;
export const LOGIN_WINDOW = 15 * MINUTE;

export interface ThrottleVerdict {
  allowed: boolean;
  limit: number;
  /**
   * When allowed: the time the attempt was counted at, if it was (the ticket to release it
   * by). When refused: the epoch ms at which the oldest counted failure leaves the window
   * and one attempt is allowed again.
   */
  at: number;
}

/** What the login route needs from the throttle objects; tests substitute a failing one. */
export interface LoginThrottler {
  /**
   * Whether an attempt under `key` may go ahead: fewer than `limit` failures lie within the
   * window. With `count`, an allowed attempt is counted as a failure at once (exact under
   * concurrency) and must be released if it does not fail.
   */
  attempt(key: string, limit: number, now: number, count: boolean): Promise<ThrottleVerdict>;
  /** Counts a failure under `key` at `now` (for attempts that were not counted up front). */
  fail(key: string, limit: number, now: number): Promise<void>;
  /** Takes back the attempt counted at `at` (it did not fail). */
  release(key: string, at: number): Promise<void>;
  /** Forgets every failure under `key` (a successful login). */
  reset(key: string): Promise<void>;
}

/**
 * One instance per throttle key (`email:<normalized email>` or `addr:<client address>`):
 * the failed logins under that key within the last LOGIN_WINDOW, as a sliding log of their
 * times (at most `limit` of them are kept). A Durable Object runs one call at a time, so
 * the count is exact. Stored on every change.
 * Callers pass `now` (their injected clock) so windows are testable without sleeping.
 */
export class LoginThrottle extends DurableObject<Env> {
  private failures: number[];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.failures = ctx.storage.kv.get<number[]>("failures") ?? [];
  }

  attempt(limit: number, windowMs: number, now: number, count: boolean): ThrottleVerdict {
    const kept = this.inWindow(windowMs, now);
    if (kept.length >= limit) {
      // Sliding window: one attempt is allowed again once enough of the oldest have left it.
      return { allowed: false, limit, at: (kept[kept.length - limit] as number) + windowMs };
    }
    if (count) this.add(now, limit);
    return { allowed: true, limit, at: now };
  }

  fail(limit: number, windowMs: number, now: number): void {
    this.inWindow(windowMs, now);
    this.add(now, limit);
  }

  release(at: number): void {
    const i = this.failures.indexOf(at);
    if (i < 0) return;
    this.failures.splice(i, 1);
    this.save();
  }

  reset(): void {
    this.failures = [];
    this.save();
  }

  /**
   * Forgets times outside the window, and times from far ahead of `now` (a clock that went
   * back): those would otherwise lock the key for longer than a window.
   */
  private inWindow(windowMs: number, now: number): number[] {
    const kept = this.failures.filter((at) => at > now - windowMs && at < now + windowMs);
    if (kept.length !== this.failures.length) {
      this.failures = kept;
      this.save();
    }
    return kept;
  }

  private add(at: number, limit: number): void {
    this.failures.push(at);
    this.failures.sort((a, b) => a - b);
    // Only the newest `limit` matter for when the key opens again.
    if (this.failures.length > limit) this.failures.splice(0, this.failures.length - limit);
    this.save();
  }

  private save(): void {
    if (this.failures.length === 0) this.ctx.storage.kv.delete("failures");
    else this.ctx.storage.kv.put("failures", this.failures);
  }
}

export function durableObjectLoginThrottle(ns: DurableObjectNamespace<LoginThrottle>): LoginThrottler {
  const stub = (key: string) => ns.get(ns.idFromName(key));
  return {
    attempt: async (key, limit, now, count) => ({ ...(await stub(key).attempt(limit, LOGIN_WINDOW, now, count)) }),
    fail: async (key, limit, now) => {
      await stub(key).fail(limit, LOGIN_WINDOW, now);
    },
    release: async (key, at) => {
      await stub(key).release(at);
    },
    reset: async (key) => {
      await stub(key).reset();
    },
  };
}

/**
 * The throttle key of a client address. IPv6 clients are keyed by their /64, the block one
 * subscriber usually holds; IPv4 (also IPv4-mapped IPv6) by the address. Without an address
 * (local development, tests) every client shares one key.
 */
export function addressKey(address: string | undefined): string {
  const ip = address?.trim().toLowerCase();
  if (!ip) return "addr:unknown";
  if (!ip.includes(":")) return `addr:${ip}`;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip)?.[1];
  if (mapped) return `addr:${mapped}`;
  const [head = "", tail] = (ip.split("%")[0] as string).split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return `addr:${ip}`;
  return `addr:${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

export const emailKey = (normalizedEmail: string) => `email:${normalizedEmail}`;

export interface LoginAttempt {
  /** The credentials were wrong: the failure counts for the email and the address. */
  failed(): Promise<void>;
  /** The credentials were right: the email's failures are forgotten. */
  succeeded(): Promise<void>;
  /** Something else went wrong (not the credentials): nothing counts. */
  abandon(): Promise<void>;
}

/**
 * Checks a login attempt against the email and the client address before any password
 * work: 429 `rate_limited` (with Retry-After) while either is locked, even when the
 * password would be right, so a refused attempt costs no PBKDF2 and counts nothing.
 * Unknown emails are counted like real ones, so no answer reveals which accounts exist.
 *
 * The email's count is exact: an attempt is counted as a failure when it starts (so
 * parallel guesses cannot slip past the limit together) and taken back unless it fails.
 * The address's failures are counted when they happen, so successful logins — even a
 * hundred at once from one office — never use its allowance; parallel failures from one
 * address may overshoot its ceiling by the number in flight.
 * A throttle that cannot be reached answers 503, never an open door.
 */
export async function beginLogin(
  throttler: LoginThrottler,
  who: { email: string; address: string | undefined },
  now: number,
  requestId: string,
): Promise<LoginAttempt> {
  const email = { key: emailKey(who.email), limit: LOGIN_FAILURES_PER_EMAIL };
  const address = { key: addressKey(who.address), limit: LOGIN_FAILURES_PER_ADDRESS };
  let byEmail: ThrottleVerdict;
  let byAddress: ThrottleVerdict;
  try {
    [byEmail, byAddress] = await Promise.all([
      throttler.attempt(email.key, email.limit, now, true),
      throttler.attempt(address.key, address.limit, now, false),
    ]);
  } catch (err) {
    logQuietly(requestId, "login throttle failed", err);
    throw new ApiError("service_unavailable", "Logging in is temporarily unavailable. Retry shortly.", {
      headers: { "Retry-After": "2" },
    });
  }
  const quietly = (msg: string, work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (err) => logQuietly(requestId, msg, err),
    );
  const takeBack = () =>
    byEmail.allowed ? quietly("login throttle release failed", throttler.release(email.key, byEmail.at)) : undefined;

  if (!byEmail.allowed || !byAddress.allowed) {
    await takeBack();
    // Locked by both: the later reset is the one that lets the client in.
    const lock = [byEmail, byAddress].filter((v) => !v.allowed).reduce((a, b) => (b.at > a.at ? b : a));
    const retryAfter = retryAfterSeconds(lock.at, now);
    const minutes = LOGIN_WINDOW / MINUTE;
    throw new ApiError(
      "rate_limited",
      !byEmail.allowed
        ? `Too many failed logins for this email (${lock.limit} in ${minutes} minutes). Try again later.`
        : `Too many failed logins from this address (${lock.limit} in ${minutes} minutes). Try again later.`,
      {
        headers: { "Retry-After": String(retryAfter) },
        extra: { limit: lock.limit, remaining: 0, reset_at: iso(lock.at), retry_after: retryAfter },
      },
    );
  }

  return {
    failed: () => quietly("login throttle count failed", throttler.fail(address.key, address.limit, now)),
    succeeded: () => quietly("login throttle reset failed", throttler.reset(email.key)),
    abandon: async () => {
      await takeBack();
    },
  };
}

function logQuietly(requestId: string, msg: string, err: unknown) {
  console.error(JSON.stringify({ level: "error", request_id: requestId, msg, error: String(err) }));
}
