import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE, SESSION_TTL } from "../services/auth";

/**
 * The session cookie, in one place for the JSON endpoints and the dashboard: HttpOnly,
 * SameSite=Lax, Path=/; on https also Secure and named with the `__Host-` prefix (the browser
 * then refuses it unless it is Secure, host-only and Path=/, so no subdomain can plant one).
 */
const isHttps = (c: Context) => new URL(c.req.url).protocol === "https:";

export const sessionCookieName = (c: Context) => (isHttps(c) ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE);

export const readSessionCookie = (c: Context): string | undefined => getCookie(c, sessionCookieName(c));

export function setSessionCookie(c: Context, sessionId: string): void {
  setCookie(c, sessionCookieName(c), sessionId, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    path: "/",
    maxAge: SESSION_TTL / 1000,
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, sessionCookieName(c), { path: "/", secure: isHttps(c) });
}
