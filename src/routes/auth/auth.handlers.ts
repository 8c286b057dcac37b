import { usageOf } from "../../middleware/auth";
import { clearSessionCookie, readSessionCookie, setSessionCookie } from "../../middleware/session-cookie";
import { accountView } from "../../services/accounts";
import { endSession, login, signupWithSession } from "../../services/auth";
import type { AppRouteHandler } from "../types";
import type * as routes from "./auth.routes";

export const signupRoute: AppRouteHandler<typeof routes.signupRoute> = async (c) => {
  const { account, sessionId } = await signupWithSession(c.get("directory"), c.req.valid("json"), c.get("now"));
  setSessionCookie(c, sessionId);
  return c.json(accountView(account, { today: 0, thisMonth: 0 }, 1, c.get("now")), 201);
};

export const loginRoute: AppRouteHandler<typeof routes.loginRoute> = async (c) => {
  const { account, sessionId, usage, seats } = await login(
    c.get("directory"),
    c.get("deps").loginThrottle(c.env),
    usageOf(c),
    {
      ...c.req.valid("json"),
      address: c.req.header("CF-Connecting-IP"),
      previousSession: readSessionCookie(c),
    },
    c.get("now"),
    c.get("requestId"),
  );
  setSessionCookie(c, sessionId);
  return c.json(accountView(account, usage, seats, c.get("now")), 200);
};

export const logoutRoute: AppRouteHandler<typeof routes.logoutRoute> = async (c) => {
  const sessionId = readSessionCookie(c);
  if (sessionId) await endSession(c.get("directory"), sessionId);
  clearSessionCookie(c);
  return c.body(null, 204);
};
