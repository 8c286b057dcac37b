import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../context";
import { getDb } from "../../db/client";
import type { Account } from "../../db/schema";
import { MINUTE } from "../../lib/clock";
import { ApiError } from "../../lib/errors";
import { errorContent, json, jsonBody, sessionErrorResponses } from "../../lib/openapi";
import {
  beginLogin,
  LOGIN_FAILURES_PER_ADDRESS,
  LOGIN_FAILURES_PER_EMAIL,
  LOGIN_WINDOW,
} from "../../limits/login-throttle";
import { accountView } from "../../services/accounts";
import {
  checkCredentials,
  createSession,
  endSession,
  normalizeEmail,
  SESSION_COOKIE,
  SESSION_TTL,
  signup,
} from "../../services/auth";
import { AccountSchema } from "../account/schemas";
import { createRouter } from "../router";

const Credentials = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email("Must be an email address").max(254)),
  password: z.string().min(10, "Must be at least 10 characters").max(256, "Must be at most 256 characters"),
});
const Signup = Credentials.extend({ name: z.string().trim().min(1, "Is required").max(100) }).openapi("Signup");
const Login = z.object({ email: z.string().max(254), password: z.string().max(256) }).openapi("Login");

const tags = ["Auth"];

const signupRoute = createRoute({
  method: "post",
  path: "/auth/signup",
  tags,
  summary: "Create an account (free plan) and start a session",
  request: { body: jsonBody(Signup) },
  responses: {
    201: json(z.object({ account: AccountSchema }), "Created; the session cookie is set."),
    409: errorContent("Email already registered (`conflict`)."),
    ...sessionErrorResponses,
  },
});

const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  tags,
  summary: "Start a session (a new session id every time)",
  description:
    `Failed logins are throttled: after ${LOGIN_FAILURES_PER_EMAIL} for one email, or ${LOGIN_FAILURES_PER_ADDRESS} from one client ` +
    `address (IPv6: one /64), within any ${LOGIN_WINDOW / MINUTE} minutes (a sliding window), attempts are refused with 429 — even with ` +
    "the right password — until the oldest of those failures is older than the window. A successful login clears the " +
    "email's count. Unknown emails are counted like real ones. Successful logins and signups are never capped.",
  request: { body: jsonBody(Login) },
  responses: {
    200: json(z.object({ account: AccountSchema }), "Logged in; the session cookie is set."),
    ...sessionErrorResponses,
    401: errorContent("Email or password is wrong (`unauthorized`); the same answer for unknown emails."),
    429: {
      ...errorContent(
        "Too many failed logins for this email or from this address (`rate_limited`, with `limit`, `remaining`, `reset_at` and `retry_after`).",
      ),
      headers: {
        "Retry-After": { description: "Seconds until an attempt is allowed again.", schema: { type: "integer" } },
      },
    },
    503: errorContent("The login throttle is unavailable; retry after `Retry-After` seconds (`service_unavailable`)."),
  },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  tags,
  summary: "End the session on the server",
  responses: {
    204: { description: "Logged out (also when there was no session)." },
    403: sessionErrorResponses[403],
    413: sessionErrorResponses[413],
    500: sessionErrorResponses[500],
  },
});

function startSession(c: Context<AppEnv>, sessionId: string) {
  setCookie(c, SESSION_COOKIE, sessionId, {
    httpOnly: true,
    sameSite: "Lax",
    secure: new URL(c.req.url).protocol === "https:",
    path: "/",
    maxAge: SESSION_TTL / 1000,
  });
}

export const authRouter = createRouter()
  .openapi(signupRoute, async (c) => {
    const db = getDb(c.env.DB);
    const now = c.get("now");
    const account = await signup(db, c.req.valid("json"), now);
    startSession(c, await createSession(db, account.id, now));
    return c.json({ account: accountView(account, { today: 0, thisMonth: 0 }, now) }, 201);
  })
  .openapi(loginRoute, async (c) => {
    const db = getDb(c.env.DB);
    const now = c.get("now");
    const { email, password } = c.req.valid("json");
    // Throttled before any password work (see beginLogin).
    const attempt = await beginLogin(
      c.get("deps").loginThrottle(c.env),
      { email: normalizeEmail(email), address: c.req.header("CF-Connecting-IP") },
      now,
      c.get("requestId"),
    );
    let account: Account;
    try {
      account = await checkCredentials(db, email, password);
    } catch (err) {
      if (err instanceof ApiError && err.code === "unauthorized") await attempt.failed();
      else await attempt.abandon();
      throw err;
    }
    await attempt.succeeded();
    // Any session the browser already had is ended: login always issues a new id.
    const previous = getCookie(c, SESSION_COOKIE);
    if (previous) await endSession(db, previous);
    startSession(c, await createSession(db, account.id, now));
    const usage = await c.get("deps").limiter(c.env).usage(account.id, now);
    return c.json({ account: accountView(account, usage, now) }, 200);
  })
  .openapi(logoutRoute, async (c) => {
    const sessionId = getCookie(c, SESSION_COOKIE);
    if (sessionId) await endSession(getDb(c.env.DB), sessionId);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.body(null, 204);
  });
