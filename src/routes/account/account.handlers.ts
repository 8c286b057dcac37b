import { notFound } from "../../lib/errors";
import { apiAccountView, changePlan, renew, sessionAccountView } from "../../services/accounts";
import { getToken, issueToken, revokeToken } from "../../services/auth";
import type { AppRouteHandler } from "../types";
import type * as routes from "./account.routes";

export const getAccount: AppRouteHandler<typeof routes.getAccount> = async (c) =>
  c.json(await sessionAccountView(c.get("db"), c.get("deps").limiter(c.env), c.get("account"), c.get("now")), 200);

export const putPlan: AppRouteHandler<typeof routes.putPlan> = async (c) => {
  const limiter = c.get("deps").limiter(c.env);
  const updated = await changePlan(c.get("db"), limiter, c.get("account"), c.req.valid("json").plan, c.get("now"));
  return c.json(await sessionAccountView(c.get("db"), c.get("deps").limiter(c.env), updated, c.get("now")), 200);
};

export const postRenew: AppRouteHandler<typeof routes.postRenew> = async (c) => {
  const limiter = c.get("deps").limiter(c.env);
  const updated = await renew(c.get("db"), limiter, c.get("account"), c.get("now"));
  return c.json(await sessionAccountView(c.get("db"), c.get("deps").limiter(c.env), updated, c.get("now")), 200);
};

export const getApiToken: AppRouteHandler<typeof routes.getApiToken> = async (c) => {
  const token = await getToken(c.get("db"), c.get("account").id);
  if (!token) throw notFound("API token");
  return c.json(token, 200);
};

export const postApiToken: AppRouteHandler<typeof routes.postApiToken> = async (c) => {
  const limiter = c.get("deps").limiter(c.env);
  const { token, view } = await issueToken(c.get("db"), limiter, c.get("account").id, c.get("now"));
  c.header("Cache-Control", "no-store");
  return c.json({ ...view, token }, 201);
};

export const deleteApiToken: AppRouteHandler<typeof routes.deleteApiToken> = async (c) => {
  const limiter = c.get("deps").limiter(c.env);
  if (!(await revokeToken(c.get("db"), limiter, c.get("account").id))) throw notFound("API token");
  return c.body(null, 204);
};

export const v1Account: AppRouteHandler<typeof routes.v1Account> = async (c) =>
  c.json(await apiAccountView(c.get("db"), c.get("account"), c.get("usage"), c.get("now")), 200);
