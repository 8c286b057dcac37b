import type { Context, Hono, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { getDb } from "../db/client";
import { hashApiToken, isWellFormedToken } from "../lib/api-token";
import { iso, retryAfterSeconds } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { tokenAccounts } from "../lib/token-cache";
import type { GateResult, RateLimitResult } from "../limits/account-limiter";
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
 * Every `/v1` call, answered in this order: 401 (token), 403 subscription_expired,
 * 403 api_access_unavailable, then the per-minute limit. Refusals before the limiter
 * use no quota. A failing limiter is a 503, never an open door.
 */
export function apiGate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const tokenHash = await hashApiToken(bearerToken(c));
    const now = c.get("now");
    let accountId = tokenAccounts.get(tokenHash);
    if (!accountId) {
      accountId = await tokenAccountId(getDb(c.env.DB), tokenHash);
      if (!accountId) throw unknownToken();
      tokenAccounts.set(tokenHash, accountId);
    }

    // One round trip: token still current? subscription? plan? then the minute's count.
    let result: GateResult;
    try {
      result = await c.get("deps").limiter(c.env).gate(accountId, tokenHash, now);
    } catch (err) {
      console.error(
        JSON.stringify({
          level: "error",
          request_id: c.get("requestId"),
          msg: "account limiter failed",
          error: String(err),
        }),
      );
      throw new ApiError("service_unavailable", "Rate limiting is temporarily unavailable. Retry shortly.", {
        headers: { "Retry-After": "2" },
      });
    }
    switch (result.outcome) {
      case "unauthorized":
        tokenAccounts.delete(tokenHash);
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
    c.set("account", result.account);
    c.set("usage", result.usage);
    await next();
    for (const [name, value] of Object.entries(rateLimitHeaders(result.rate, now))) setHeader(c, name, value);
  };
}

/** Dashboard endpoints: the HttpOnly session cookie. */
export function sessionAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const sessionId = readSessionCookie(c);
    const session = sessionId ? await resolveSession(getDb(c.env.DB), sessionId, c.get("now")) : undefined;
    if (!session) {
      if (sessionId) clearSessionCookie(c);
      throw new ApiError("unauthorized", "Log in first: this endpoint needs a session.", {
        headers: { "WWW-Authenticate": 'Cookie realm="snaptrack", cookie-name="snaptrack_session"' },
      });
    }
    c.set("account", session.account);
    c.set("user", session.user);
    await next();
  };
}

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
