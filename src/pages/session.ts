import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { sha256Hex, timingSafeEqual } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import { setHeader } from "../middleware/request";
import { clearSessionCookie, readSessionCookie } from "../middleware/session-cookie";
import { resolveSession } from "../services/auth";

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

export function setSecurityHeaders(c: { res: Response }) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) setHeader(c, name, value);
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

/** The per-session CSRF token: a hash of the (secret) session id, so it needs no storage. */
export const csrfToken = async (sessionId: string) => sha256Hex(`snaptrack-csrf:${sessionId}`);

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
 * Signed-in dashboard pages: the session cookie, resolved with the same `resolveSession` the
 * JSON endpoints use (the account and the user behind it); no session ⇒ a redirect to the login page (which comes back here).
 * Every state-changing request must carry the session's CSRF token (hidden `_csrf` field or
 * `X-CSRF-Token`); cross-site requests are refused before that by `sameOriginWrites`.
 */
export function pageSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const sessionId = readSessionCookie(c);
    const session = sessionId ? await resolveSession(c.get("db"), sessionId, c.get("now")) : undefined;
    if (!session || !sessionId) {
      if (sessionId) clearSessionCookie(c);
      const url = new URL(c.req.url);
      const back = c.req.method === "GET" ? `?next=${encodeURIComponent(url.pathname + url.search)}` : "";
      return c.redirect(`/login${back}`, 303);
    }
    const csrf = await csrfToken(sessionId);
    if (UNSAFE.has(c.req.method)) {
      const sent = await formToken(c);
      const enc = new TextEncoder();
      if (!sent || !timingSafeEqual(enc.encode(sent), enc.encode(csrf))) throw forbidden();
    }
    c.set("account", session.account);
    c.set("user", session.user);
    c.set("sessionId", sessionId);
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
