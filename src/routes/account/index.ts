import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../context";
import { getDb } from "../../db/client";
import type { AccountRecord } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { errorContent, json, jsonBody, sessionErrorResponses, v1ErrorResponses } from "../../lib/openapi";
import { accountView, changePlan, renew } from "../../services/accounts";
import { getToken, issueToken, revokeToken } from "../../services/auth";
import { createRouter } from "../router";
import { AccountSchema, ApiTokenSchema, NewApiTokenSchema, PlanIdSchema } from "./schemas";

const sessionTags = ["Account (session)"];

/** Session requests have no gate result: usage comes from the account's limiter. */
async function sessionView(c: Context<AppEnv>, account: AccountRecord) {
  const usage = await c.get("deps").limiter(c.env).usage(account.id, c.get("now"));
  return accountView(account, usage, c.get("now"));
}

const getAccount = createRoute({
  method: "get",
  path: "/account",
  tags: sessionTags,
  summary: "The logged-in account",
  responses: { 200: json(AccountSchema, "The account."), ...sessionErrorResponses },
});

const putPlan = createRoute({
  method: "put",
  path: "/account/plan",
  tags: sessionTags,
  summary: "Change plan (billing stand-in)",
  description:
    "Upgrades apply at once and cancel a pending downgrade. Downgrades are recorded as `pending_plan` and apply at `current_period_end`.",
  request: { body: jsonBody(z.object({ plan: PlanIdSchema }).openapi("PlanChange")) },
  responses: { 200: json(AccountSchema, "The account after the change."), ...sessionErrorResponses },
});

const postRenew = createRoute({
  method: "post",
  path: "/account/renew",
  tags: sessionTags,
  summary: "Renew for one month (billing stand-in)",
  description: "Extends `current_period_end` by one month (from now, if it had already passed).",
  responses: { 200: json(AccountSchema, "The account after renewal."), ...sessionErrorResponses },
});

const getApiToken = createRoute({
  method: "get",
  path: "/account/api-token",
  tags: sessionTags,
  summary: "The API token's prefix and dates (never the secret)",
  responses: {
    200: json(ApiTokenSchema, "The active token."),
    404: errorContent("No token; generate one."),
    ...sessionErrorResponses,
  },
});

const postApiToken = createRoute({
  method: "post",
  path: "/account/api-token",
  tags: sessionTags,
  summary: "Generate or regenerate the API token",
  description: "The plaintext is in this response only. Regenerating invalidates the previous token at once.",
  responses: { 201: json(NewApiTokenSchema, "The new token."), ...sessionErrorResponses },
});

const deleteApiToken = createRoute({
  method: "delete",
  path: "/account/api-token",
  tags: sessionTags,
  summary: "Revoke the API token (effective on the next request)",
  responses: { 204: { description: "Revoked." }, 404: errorContent("There was no token."), ...sessionErrorResponses },
});

export const accountRouter = createRouter()
  .openapi(getAccount, async (c) => c.json(await sessionView(c, c.get("account")), 200))
  .openapi(putPlan, async (c) => {
    const limiter = c.get("deps").limiter(c.env);
    const updated = await changePlan(
      getDb(c.env.DB),
      limiter,
      c.get("account"),
      c.req.valid("json").plan,
      c.get("now"),
    );
    return c.json(await sessionView(c, updated), 200);
  })
  .openapi(postRenew, async (c) => {
    const limiter = c.get("deps").limiter(c.env);
    const updated = await renew(getDb(c.env.DB), limiter, c.get("account"), c.get("now"));
    return c.json(await sessionView(c, updated), 200);
  })
  .openapi(getApiToken, async (c) => {
    const token = await getToken(getDb(c.env.DB), c.get("account").id);
    if (!token) throw notFound("API token");
    return c.json(token, 200);
  })
  .openapi(postApiToken, async (c) => {
    const limiter = c.get("deps").limiter(c.env);
    const { token, view } = await issueToken(getDb(c.env.DB), limiter, c.get("account").id, c.get("now"));
    c.header("Cache-Control", "no-store");
    return c.json({ ...view, token }, 201);
  })
  .openapi(deleteApiToken, async (c) => {
    const limiter = c.get("deps").limiter(c.env);
    if (!(await revokeToken(getDb(c.env.DB), limiter, c.get("account").id))) throw notFound("API token");
    return c.body(null, 204);
  });

const v1Account = createRoute({
  method: "get",
  path: "/v1/account",
  tags: ["Account"],
  summary: "Plan, limits, usage this day and month, subscription",
  security: [{ bearerAuth: [] }],
  responses: { 200: json(AccountSchema, "The account."), ...v1ErrorResponses },
});

// The gate already holds the account and its usage: this route needs no further I/O.
export const v1AccountRouter = createRouter().openapi(v1Account, (c) =>
  c.json(accountView(c.get("account"), c.get("usage"), c.get("now")), 200),
);
