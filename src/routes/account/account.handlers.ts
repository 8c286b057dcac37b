import { notFound } from "../../lib/errors";
import { seatsAt } from "../../limits/counters";
import { clearSessionCookie } from "../../middleware/session-cookie";
import {
  changePassword as changeOwnPassword,
  deleteAccount as removeAccount,
  renameUser,
} from "../../services/account-settings";
import { accountView, changePlan, renew, sessionAccountView } from "../../services/accounts";
import { getToken, issueToken, revokeToken } from "../../services/auth";
import type { AppRouteHandler } from "../types";
import type * as routes from "./account.routes";

// These run in the account's object: the directory row they change is the one its gate keeps,
// so each change tells the object (`host.invalidate`) before the answer leaves.

export const getAccount: AppRouteHandler<typeof routes.getAccount> = async (c) => {
  const now = c.get("now");
  return c.json(
    await sessionAccountView(c.get("directory"), c.get("scope").quota.usage(now), c.get("account"), now, c.get("user")),
    200,
  );
};

export const patchAccount: AppRouteHandler<typeof routes.patchAccount> = async (c) => {
  const now = c.get("now");
  const host = c.get("host");
  const { name } = c.req.valid("json");
  await renameUser(c.get("directory"), () => host.invalidate(), c.get("user"), c.get("account").id, name, now);
  const account = (await host.snapshot()) ?? c.get("account");
  const user = { ...c.get("user"), name: name.trim() };
  return c.json(await sessionAccountView(c.get("directory"), c.get("scope").quota.usage(now), account, now, user), 200);
};

export const changePassword: AppRouteHandler<typeof routes.changePassword> = async (c) => {
  await changeOwnPassword(
    c.get("directory"),
    c.get("deps").loginThrottle(c.env),
    c.get("user"),
    c.get("sessionId"),
    c.req.valid("json"),
    c.get("now"),
    c.get("requestId"),
  );
  return c.body(null, 204);
};

export const deleteAccount: AppRouteHandler<typeof routes.deleteAccount> = async (c) => {
  const host = c.get("host");
  await removeAccount(
    c.get("directory"),
    c.get("deps").loginThrottle(c.env),
    c.env.JOBS,
    () => host.erase(),
    c.get("user"),
    c.get("account").id,
    c.req.valid("json").password,
    c.get("now"),
    c.get("requestId"),
  );
  clearSessionCookie(c);
  return c.body(null, 204);
};

export const putPlan: AppRouteHandler<typeof routes.putPlan> = async (c) => {
  const now = c.get("now");
  const host = c.get("host");
  const updated = await changePlan(
    c.get("directory"),
    () => host.invalidate(),
    c.get("account"),
    c.req.valid("json").plan,
    now,
  );
  return c.json(
    await sessionAccountView(c.get("directory"), c.get("scope").quota.usage(now), updated, now, c.get("user")),
    200,
  );
};

export const postRenew: AppRouteHandler<typeof routes.postRenew> = async (c) => {
  const now = c.get("now");
  const host = c.get("host");
  const updated = await renew(c.get("directory"), () => host.invalidate(), c.get("account"), now);
  return c.json(
    await sessionAccountView(c.get("directory"), c.get("scope").quota.usage(now), updated, now, c.get("user")),
    200,
  );
};

export const getApiToken: AppRouteHandler<typeof routes.getApiToken> = async (c) => {
  const token = await getToken(c.get("directory"), c.get("account").id);
  if (!token) throw notFound("API token");
  return c.json(token, 200);
};

export const postApiToken: AppRouteHandler<typeof routes.postApiToken> = async (c) => {
  const host = c.get("host");
  const { token, view } = await issueToken(
    c.get("directory"),
    () => host.invalidate(),
    c.get("account").id,
    c.get("now"),
  );
  c.header("Cache-Control", "no-store");
  return c.json({ ...view, token }, 201);
};

export const deleteApiToken: AppRouteHandler<typeof routes.deleteApiToken> = async (c) => {
  const host = c.get("host");
  if (!(await revokeToken(c.get("directory"), () => host.invalidate(), c.get("account").id)))
    throw notFound("API token");
  return c.body(null, 204);
};

/** `GET /v1/account`: the object's own copy of the account (seats included), so no directory read. */
export const v1Account: AppRouteHandler<typeof routes.v1Account> = async (c) => {
  const now = c.get("now");
  const account = await c.get("host").snapshot(); // cached; the gate has just read it
  if (!account) throw notFound("Account");
  return c.json(accountView(account, c.get("usage"), seatsAt(account, now), now), 200);
};
