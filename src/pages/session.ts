import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { timingSafeEqual } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import { csrfToken, sessionForward, sessionOf } from "../middleware/auth";
import { setHeader } from "../middleware/request";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Every dashboard response: marks the request as a page (errors render as HTML pages) and
 * sets the security headers. Scripts and styles come only from this origin (no inline
 * script at all), nothing may frame the dashboard, forms post only here.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/**
 * The headers above, each unless the response set its own: a page with a policy of its own
 * (the outbox's message frame, /docs) states it where it is made.
 */
export function setSecurityHeaders(c: { res: Response }) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (!c.res.headers.has(name)) setHeader(c, name, value);
  }
}

export function pageContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("page", true);
    await next();
    setSecurityHeaders(c);
    // Pages show one account's data: never cached by a shared cache, nor kept by the browser.
    if (!c.res.headers.has("Cache-Control")) setHeader(c, "Cache-Control", "no-store");
  };
}

async function formToken(c: Context<AppEnv>): Promise<string | undefined> {
  const header = c.req.header("X-CSRF-Token");
  if (header) return header;
  const type = c.req.header("Content-Type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) return;
  const body = await c.req.parseBody();
  const value = body._csrf;
  return typeof value === "string" ? value : undefined;
}

const forbidden = () =>
  new ApiError("forbidden", "This form has expired or did not come from this site. Reload the page and try again.");

/**
 * Every state-changing request must carry the session's CSRF token (hidden `_csrf` field or
 * `X-CSRF-Token`); cross-site requests are refused before that by `sameOriginWrites`.
 */
async function checkCsrf(c: Context<AppEnv>, csrf: string) {
  if (!UNSAFE.has(c.req.method)) return;
  const sent = await formToken(c);
  const enc = new TextEncoder();
  if (!sent || !timingSafeEqual(enc.encode(sent), enc.encode(csrf))) throw forbidden();
}

/** No session: the login page, which comes back here after. */
function toLogin(c: Context<AppEnv>) {
  const url = new URL(c.req.url);
  const back = c.req.method === "GET" ? `?next=${encodeURIComponent(url.pathname + url.search)}` : "";
  return c.redirect(`/login${back}`, 303);
}

/**
 * Signed-in dashboard pages, in the Worker: the session cookie names the user and account
 * (D1), and the page is one call to the account's object; no session ⇒ the login page.
 */
export const pageForward = () => sessionForward(toLogin);

/** Signed-in dashboard pages, in the account's object: the session the Worker found, and its CSRF token. */
export function pageSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const host = c.get("host");
    const { caller } = c.get("forwarded");
    const snapshot = await host.snapshot();
    if (caller.kind !== "session" || !snapshot) return toLogin(c);
    await checkCsrf(c, caller.csrf);
    c.set("account", snapshot);
    c.set("user", caller.user);
    c.set("sessionId", caller.sessionId);
    c.set("csrf", caller.csrf);
    await next();
  };
}

/** A signed-in page the Worker answers itself (log out: the session is the directory's). */
export function edgePageSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = await sessionOf(c);
    if (!session) return toLogin(c);
    const csrf = await csrfToken(session.sessionId);
    await checkCsrf(c, csrf);
    c.set("account", session.account);
    c.set("user", session.user);
    c.set("sessionId", session.sessionId);
    c.set("csrf", csrf);
    await next();
  };
}

/**
 * Where to go after logging in: a path on this site only (no open redirect). Browsers drop
 * tabs and newlines from URLs and read `\\` as `/`, so `/\t/evil.example` would become
 * `//evil.example`: any control character or backslash is refused, and the path must resolve
 * to this origin.
 */
export function safeNext(next: string | undefined): string {
  const unsafe = [...(next ?? "")].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f || ch === "\\");
  if (!next?.startsWith("/") || unsafe) return "/app";
  const base = "https://snaptrack.invalid";
  const url = new URL(next, base);
  return url.origin === base ? url.pathname + url.search + url.hash : "/app";
}
