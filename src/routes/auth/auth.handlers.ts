import { outboxOf, usageOf } from "../../middleware/auth";
import { clearSessionCookie, readSessionCookie, setSessionCookie } from "../../middleware/session-cookie";
import { confirmPasswordReset, requestPasswordReset } from "../../services/account-settings";
import { accountView } from "../../services/accounts";
import { endSession, login, signupWithSession, userView } from "../../services/auth";
import type { AppRouteHandler } from "../types";
import type * as routes from "./auth.routes";

export const signupRoute: AppRouteHandler<typeof routes.signupRoute> = async (c) => {
  const { account, user, sessionId } = await signupWithSession(c.get("directory"), c.req.valid("json"), c.get("now"));
  setSessionCookie(c, sessionId);
  return c.json({ ...accountView(account, { today: 0, thisMonth: 0 }, 1, c.get("now")), user: userView(user) }, 201);
};

export const loginRoute: AppRouteHandler<typeof routes.loginRoute> = async (c) => {
  const { account, user, sessionId, usage, seats } = await login(
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
  return c.json({ ...accountView(account, usage, seats, c.get("now")), user: userView(user) }, 200);
};

export const logoutRoute: AppRouteHandler<typeof routes.logoutRoute> = async (c) => {
  const sessionId = readSessionCookie(c);
  if (sessionId) await endSession(c.get("directory"), sessionId);
  clearSessionCookie(c);
  return c.body(null, 204);
};

export const passwordResetRoute: AppRouteHandler<typeof routes.passwordResetRoute> = async (c) => {
  await requestPasswordReset(
    c.get("directory"),
    c.env,
    outboxOf(c),
    c.req.valid("json").email,
    c.req.url,
    c.get("now"),
  );
  return c.body(null, 202);
};

export const passwordResetConfirmRoute: AppRouteHandler<typeof routes.passwordResetConfirmRoute> = async (c) => {
  await confirmPasswordReset(c.get("directory"), c.req.valid("json"), c.get("now"));
  // Every session of the login ended, this browser's included.
  clearSessionCookie(c);
  return c.body(null, 204);
};
