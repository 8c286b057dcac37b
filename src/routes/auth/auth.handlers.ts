import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../context";
import { accountView } from "../../services/accounts";
import { endSession, login, SESSION_COOKIE, SESSION_TTL, signupWithSession } from "../../services/auth";
import type { AppRouteHandler } from "../types";
import type * as routes from "./auth.routes";

/** The session cookie: HttpOnly, SameSite=Lax, Secure on https. */
function startSession(c: Context<AppEnv>, sessionId: string) {
  setCookie(c, SESSION_COOKIE, sessionId, {
    httpOnly: true,
    sameSite: "Lax",
    secure: new URL(c.req.url).protocol === "https:",
    path: "/",
    maxAge: SESSION_TTL / 1000,
  });
}

export const signupRoute: AppRouteHandler<typeof routes.signupRoute> = async (c) => {
  const { account, sessionId } = await signupWithSession(c.get("db"), c.req.valid("json"), c.get("now"));
  startSession(c, sessionId);
  return c.json(accountView(account, { today: 0, thisMonth: 0 }, c.get("now")), 201);
};

export const loginRoute: AppRouteHandler<typeof routes.loginRoute> = async (c) => {
  const { account, sessionId, usage } = await login(
    c.get("db"),
    c.get("deps").loginThrottle(c.env),
    c.get("deps").limiter(c.env),
    {
      ...c.req.valid("json"),
      address: c.req.header("CF-Connecting-IP"),
      previousSession: getCookie(c, SESSION_COOKIE),
    },
    c.get("now"),
    c.get("requestId"),
  );
  startSession(c, sessionId);
  return c.json(accountView(account, usage, c.get("now")), 200);
};

export const logoutRoute: AppRouteHandler<typeof routes.logoutRoute> = async (c) => {
  const sessionId = getCookie(c, SESSION_COOKIE);
  if (sessionId) await endSession(c.get("db"), sessionId);
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
  return c.body(null, 204);
};
