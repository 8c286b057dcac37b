import type { Context, Hono, MiddlewareHandler } from "hono";
import type { AppEnv, Caller } from "../context";
import { hashApiToken, isWellFormedToken } from "../lib/api-token";
import { iso, retryAfterSeconds } from "../lib/clock";
import { sha256Hex } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import { tokenAccounts } from "../lib/token-cache";
import type { RateLimitResult } from "../limits/counters";
import type { KeptMail } from "../mail/mail";
import { isOwner, resolveSession, tokenAccountId } from "../services/auth";
import { setHeader } from "./request";
import { clearSessionCookie, readSessionCookie } from "./session-cookie";

const BEARER_RE = /^Bearer ([^\s]+)$/i;

const unauthorized = (message: string, invalidToken: boolean) =>
  new ApiError("unauthorized", message, {
    headers: {
      "WWW-Authenticate": invalidToken ? 'Bearer realm="snaptrack", error="invalid_token"' : 'Bearer realm="snaptrack"',
    },
  });

function bearerToken(c: Context<AppEnv>): string {
  const header = c.req.header("Authorization");
  if (!header) throw unauthorized("Send your API token as `Authorization: Bearer <token>`.", false);
  const token = BEARER_RE.exec(header)?.[1];
  if (!token) throw unauthorized("The Authorization header must be `Bearer <token>` with a single space.", true);
  // A failed checksum (typo, fake, a password) is refused before any database work.
  if (!isWellFormedToken(token)) throw unauthorized("The API token is malformed.", true);
  return token;
}

const unknownToken = () => unauthorized("The API token is not valid. It may have been revoked or regenerated.", true);

export function rateLimitHeaders(r: RateLimitResult, now: number): Record<string, string> {
  const secondsToReset = retryAfterSeconds(r.resetAt, now);
  return {
    "X-RateLimit-Limit": String(r.limit),
    "X-RateLimit-Remaining": String(r.remaining),
    "X-RateLimit-Reset": String(Math.ceil(r.resetAt / 1000)),
    "RateLimit-Policy": `"minute";q=${r.limit};w=60`,
    RateLimit: `"minute";r=${r.remaining};t=${secondsToReset}`,
  };
}

/**
 * The request goes to the account's object, which does the rest (one call): an object that
 * cannot be reached is a 503 with Retry-After, never a 500 and never an open door.
 */
async function forward(c: Context<AppEnv>, accountId: string, caller: Caller): Promise<Response> {
  const forwarded = { accountId, requestId: c.get("requestId"), now: c.get("now"), caller };
  try {
    return await c.get("deps").account(c.env, accountId).serve(c.req.raw, forwarded);
  } catch (err) {
    console.error(
      JSON.stringify({
        level: "error",
        request_id: c.get("requestId"),
        msg: "account object unavailable",
        error: String(err),
      }),
    );
    throw new ApiError("service_unavailable", "The service is temporarily unavailable. Retry shortly.", {
      headers: { "Retry-After": "2" },
    });
  }
}

/**
 * `/v1` in the Worker: the bearer token's hash names the account (D1, cached per isolate: a
 * token never moves between accounts), and the request goes to the account's object, which
 * checks that the token is still the current one, counts the request and does the work.
 */
export function apiGate(): MiddlewareHandler<AppEnv> {
  return async (c) => {
    const tokenHash = await hashApiToken(bearerToken(c));
    let accountId = tokenAccounts.get(tokenHash);
    if (!accountId) {
      accountId = await tokenAccountId(c.get("directory"), tokenHash);
      if (!accountId) throw unknownToken();
      tokenAccounts.set(tokenHash, accountId);
    }
    const res = await forward(c, accountId, { kind: "token", tokenHash });
    if (res.status === 401) tokenAccounts.delete(tokenHash); // revoked or regenerated
    return res;
  };
}

/**
 * `/v1` in the account's object, answered in this order: 401 (the token is not the current
 * one), 403 subscription_expired, 403 api_access_unavailable, then the per-minute limit.
 * Refusals before the limit use no quota.
 */
export function accountGate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const host = c.get("host");
    const { caller } = c.get("forwarded");
    if (caller.kind !== "token") throw unknownToken();
    const now = c.get("now");
    const snapshot = await host.snapshot();
    const result = host.gate(snapshot, caller.tokenHash, now);
    switch (result.outcome) {
      case "unauthorized":
        throw unknownToken();
      case "subscription_expired":
        throw new ApiError("subscription_expired", "Your subscription has expired. Renew it to use the API again.");
      case "api_access_unavailable":
        throw new ApiError("api_access_unavailable", "The free plan has no API access. Upgrade to Starter or above.");
      case "rate_limited": {
        const { rate } = result;
        const retryAfter = retryAfterSeconds(rate.resetAt, now);
        throw new ApiError("rate_limited", `Rate limit of ${rate.limit} requests per minute exceeded.`, {
          headers: { ...rateLimitHeaders(rate, now), "Retry-After": String(retryAfter) },
          extra: { limit: rate.limit, remaining: 0, reset_at: iso(rate.resetAt), retry_after: retryAfter },
        });
      }
    }
    c.set("account", snapshot as NonNullable<typeof snapshot>);
    c.set("usage", result.usage);
    await next();
    for (const [name, value] of Object.entries(rateLimitHeaders(result.rate, now))) setHeader(c, name, value);
  };
}

const noSession = () =>
  new ApiError("unauthorized", "Log in first: this endpoint needs a session.", {
    headers: { "WWW-Authenticate": 'Cookie realm="snaptrack", cookie-name="snaptrack_session"' },
  });

/** The session cookie's user and account (D1); undefined (and the cookie cleared) without one. */
export async function sessionOf(c: Context<AppEnv>) {
  const sessionId = readSessionCookie(c);
  const session = sessionId ? await resolveSession(c.get("directory"), sessionId, c.get("now")) : undefined;
  if (!session || !sessionId) {
    if (sessionId) clearSessionCookie(c);
    return undefined;
  }
  return { ...session, sessionId };
}

/** Session endpoints and pages in the Worker: the session names the user and account; the object does the rest. */
export function sessionForward(
  onMissing: (c: Context<AppEnv>) => Response | Promise<Response> = () => {
    throw noSession();
  },
): MiddlewareHandler<AppEnv> {
  return async (c) => {
    const session = await sessionOf(c);
    if (!session) return onMissing(c);
    return forward(c, session.account.id, {
      kind: "session",
      user: session.user,
      sessionId: session.sessionId,
      csrf: await csrfToken(session.sessionId),
    });
  };
}

/** Session requests in the account's object: the user the Worker found, the account as the object has it. */
export function sessionAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const host = c.get("host");
    const { caller } = c.get("forwarded");
    const snapshot = await host.snapshot();
    if (caller.kind !== "session" || !snapshot) throw noSession();
    c.set("account", snapshot);
    c.set("user", caller.user);
    c.set("sessionId", caller.sessionId);
    c.set("csrf", caller.csrf);
    await next();
  };
}

/** The per-session CSRF token: a hash of the (secret) session id, so it needs no storage. */
export const csrfToken = async (sessionId: string) => sha256Hex(`snaptrack-csrf:${sessionId}`);

/**
 * Plan, API token and members are the owners' to manage; members are refused with 403
 * `forbidden` (they still see and change the account's websites, captures, scenarios…).
 */
export function ownerOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!isOwner(c.get("user"))) {
      throw new ApiError("forbidden", "Only the account's owners can manage its plan, API token and members.");
    }
    await next();
  };
}

/** `ownerOnly()` on each path and everything under it. */
export function ownersOnlyUnder(app: Hono<AppEnv>, paths: readonly string[]): void {
  for (const path of paths) {
    app.use(path, ownerOnly());
    app.use(`${path}/*`, ownerOnly());
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Cookie-authenticated endpoints refuse cross-site writes: a browser always sends `Origin`
 * (or `Sec-Fetch-Site`) on them. Non-browser clients send neither and are unaffected;
 * SameSite=Lax already keeps the cookie off cross-site form posts.
 */
export function sameOriginWrites(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (UNSAFE.has(c.req.method)) {
      const origin = c.req.header("Origin");
      const site = c.req.header("Sec-Fetch-Site");
      const crossOrigin = origin !== undefined && origin !== new URL(c.req.url).origin;
      if (crossOrigin || site === "cross-site") {
        throw new ApiError("forbidden", "Cross-site requests to session endpoints are refused.");
      }
    }
    await next();
  };
}

/** Capture usage of an account, asked of its object (log-in answers show it; no gate ran). */
export const usageOf = (c: Context<AppEnv>) => async (accountId: string) => {
  const usage = await c.get("deps").account(c.env, accountId).usage(accountId, c.get("now"));
  return { today: usage.today, thisMonth: usage.thisMonth };
};

/** The directory changed for an account outside its object (someone joined its team): tell the object. */
export const refreshAccount = (c: Context<AppEnv>, accountId: string) =>
  c.get("deps").account(c.env, accountId).refresh(accountId);

/** Where mail the Worker sends for an account is kept locally: that account's object (src/mail). */
export const outboxOf = (c: Context<AppEnv>) => (accountId: string) => ({
  keep: (mail: KeptMail) => c.get("deps").account(c.env, accountId).keepMail(accountId, mail, c.get("now")),
});
