import { deleteCookie, getCookie } from "hono/cookie";
import { startSession } from "../../middleware/auth";
import { accountView } from "../../services/accounts";
import { endSession, login, SESSION_COOKIE, signupWithSession } from "../../services/auth";
import type { AppRouteHandler } from "../types";
import type * as routes from "./auth.routes";

export const signupRoute: AppRouteHandler<typeof routes.signupRoute> = async (c) => {
  const { account, sessionId } = await signupWithSession(c.get("db"), c.req.valid("json"), c.get("now"));
  startSession(c, sessionId);
  return c.json(accountView(account, { today: 0, thisMonth: 0 }, 1, c.get("now")), 201);
};

export const loginRoute: AppRouteHandler<typeof routes.loginRoute> = async (c) => {
  const { account, sessionId, usage, seats } = await login(
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
  return c.json(accountView(account, usage, seats, c.get("now")), 200);
};

export const logoutRoute: AppRouteHandler<typeof routes.logoutRoute> = async (c) => {
  const sessionId = getCookie(c, SESSION_COOKIE);
  if (sessionId) await endSession(c.get("db"), sessionId);
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
  return c.body(null, 204);
};
