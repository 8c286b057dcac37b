import { createRoute, z } from "@hono/zod-openapi";
import {
  accountSessionErrorResponses,
  errorContent,
  json,
  jsonBody,
  v1ErrorResponses,
  v1Security,
} from "../../lib/openapi";
import {
  AccountSchema,
  ApiTokenSchema,
  NewApiTokenSchema,
  PlanIdSchema,
  sessionSecurity,
  sessionTags,
} from "./account.schemas";

export const getAccount = createRoute({
  method: "get",
  path: "/account",
  operationId: "getSessionAccount",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "The logged-in account",
  responses: { 200: json(AccountSchema, "The account."), ...accountSessionErrorResponses },
});

export const putPlan = createRoute({
  method: "put",
  path: "/account/plan",
  operationId: "changePlan",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Change plan (billing stand-in)",
  description:
    "Upgrades apply at once and cancel a pending downgrade. Downgrades are recorded as `pending_plan` and apply at `current_period_end`.",
  request: { body: jsonBody(z.object({ plan: PlanIdSchema }).openapi("PlanChange")) },
  responses: { 200: json(AccountSchema, "The account after the change."), ...accountSessionErrorResponses },
});

export const postRenew = createRoute({
  method: "post",
  path: "/account/renew",
  operationId: "renewSubscription",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Renew for one month (billing stand-in)",
  description: "Extends `current_period_end` by one month (from now, if it had already passed).",
  responses: { 200: json(AccountSchema, "The account after renewal."), ...accountSessionErrorResponses },
});

export const getApiToken = createRoute({
  method: "get",
  path: "/account/api-token",
  operationId: "getApiToken",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "The API token's prefix and dates (never the secret)",
  responses: {
    200: json(ApiTokenSchema, "The active token."),
    404: errorContent("No token; generate one."),
    ...accountSessionErrorResponses,
  },
});

export const postApiToken = createRoute({
  method: "post",
  path: "/account/api-token",
  operationId: "createApiToken",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Generate or regenerate the API token",
  description: "The plaintext is in this response only. Regenerating invalidates the previous token at once.",
  responses: { 201: json(NewApiTokenSchema, "The new token."), ...accountSessionErrorResponses },
});

export const deleteApiToken = createRoute({
  method: "delete",
  path: "/account/api-token",
  operationId: "revokeApiToken",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Revoke the API token (effective on the next request)",
  responses: {
    204: { description: "Revoked." },
    404: errorContent("There was no token."),
    ...accountSessionErrorResponses,
  },
});

export const v1Account = createRoute({
  method: "get",
  path: "/v1/account",
  operationId: "getAccount",
  tags: ["Account"],
  summary: "Plan, limits, usage this day and month, subscription",
  security: v1Security,
  responses: { 200: json(AccountSchema, "The account."), ...v1ErrorResponses },
});

// The gate already holds the account and its usage: this route needs no further I/O.
