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
  DeleteAccountBody,
  NewApiTokenSchema,
  PasswordChangeBody,
  PlanIdSchema,
  RenameBody,
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

export const patchAccount = createRoute({
  method: "patch",
  path: "/account",
  operationId: "renameSelf",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Change your name",
  description:
    "The logged-in user's name. An account is named after its owners, so an owner's new name renames the account too " +
    "(invitations and the team show it).",
  request: { body: jsonBody(RenameBody) },
  responses: { 200: json(AccountSchema, "The account, with you as `user`."), ...accountSessionErrorResponses },
});

export const changePassword = createRoute({
  method: "post",
  path: "/account/password",
  operationId: "changePassword",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Change your password (every other session of yours ends)",
  description:
    "Needs the current password, checked as a login is (failures count toward the login throttle of your email). " +
    "This session stays; every other session of yours ends at once.",
  request: { body: jsonBody(PasswordChangeBody) },
  responses: {
    204: { description: "Changed." },
    ...accountSessionErrorResponses,
    422: errorContent("Validation failed, or `current_password` is wrong (`validation_failed`, the field named)."),
    429: errorContent("Too many wrong passwords for this email (`rate_limited`); see `POST /auth/login`."),
  },
});

export const deleteAccount = createRoute({
  method: "delete",
  path: "/account",
  operationId: "deleteAccount",
  tags: sessionTags,
  security: sessionSecurity,
  summary: "Delete the account and everything in it (owners)",
  description:
    "Deletes the account, its users, sessions, invitations and API token, every record of its websites, screenshots, " +
    "scenarios, runs, schedules and webhooks, and its stored images (removed in the background). Cannot be undone. " +
    "Needs the owner's password (checked as a login is).",
  request: { body: jsonBody(DeleteAccountBody) },
  responses: {
    204: { description: "Deleted; the session cookie is cleared." },
    ...accountSessionErrorResponses,
    403: errorContent("A member asked (`forbidden`: only owners delete an account), or a cross-site write."),
    422: errorContent("The password is wrong (`validation_failed`, field `password`)."),
    429: errorContent("Too many wrong passwords for this email (`rate_limited`)."),
  },
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
