import { createRoute } from "@hono/zod-openapi";
import { MINUTE } from "../../lib/clock";
import { errorContent, json, jsonBody, sessionErrorResponses } from "../../lib/openapi";
import { LOGIN_FAILURES_PER_ADDRESS, LOGIN_FAILURES_PER_EMAIL, LOGIN_WINDOW } from "../../limits/login-throttle";
import { AccountSchema, sessionSecurity } from "../account/account.schemas";
import { Login, PasswordResetConfirm, PasswordResetRequest, Signup } from "./auth.schemas";

const tags = ["Auth"];

export const signupRoute = createRoute({
  method: "post",
  path: "/auth/signup",
  operationId: "signup",
  tags,
  security: [],
  summary: "Create an account (free plan) and start a session",
  request: { body: jsonBody(Signup) },
  responses: {
    201: json(AccountSchema, "The new account, as `GET /account` shows it; the session cookie is set."),
    409: errorContent("Email already registered (`conflict`)."),
    ...sessionErrorResponses,
  },
});

export const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  operationId: "login",
  tags,
  security: [],
  summary: "Start a session (a new session id every time)",
  description:
    `Failed logins are throttled: after ${LOGIN_FAILURES_PER_EMAIL} for one email, or ${LOGIN_FAILURES_PER_ADDRESS} from one client ` +
    `address (IPv6: one /64), within any ${LOGIN_WINDOW / MINUTE} minutes (a sliding window), attempts are refused with 429 — even with ` +
    "the right password — until the oldest of those failures is older than the window. A successful login clears the " +
    "email's count. Unknown emails are counted like real ones. Successful logins and signups are never capped.",
  request: { body: jsonBody(Login) },
  responses: {
    200: json(AccountSchema, "The account, as `GET /account` shows it; the session cookie is set."),
    ...sessionErrorResponses,
    401: errorContent("Email or password is wrong (`unauthorized`); the same answer for unknown emails."),
    429: {
      ...errorContent(
        "Too many failed logins for this email or from this address (`rate_limited`, with `limit`, `remaining`, `reset_at` and `retry_after`).",
      ),
      headers: {
        "Retry-After": { description: "Seconds until an attempt is allowed again.", schema: { type: "integer" } },
      },
    },
    503: errorContent("The login throttle is unavailable; retry after `Retry-After` seconds (`service_unavailable`)."),
  },
});

export const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  operationId: "logout",
  tags,
  security: sessionSecurity,
  summary: "End the session on the server",
  responses: {
    204: { description: "Logged out (also when there was no session)." },
    403: sessionErrorResponses[403],
    413: sessionErrorResponses[413],
    500: sessionErrorResponses[500],
  },
});

export const passwordResetRoute = createRoute({
  method: "post",
  path: "/auth/password-reset",
  operationId: "requestPasswordReset",
  tags,
  security: [],
  summary: "Mail a password-reset link",
  description:
    "Always 202, whether or not the email has a login (nothing is revealed). A login's email gets a single-use link " +
    "valid for 1 hour; a new request replaces the earlier link, and one made within a minute of the last sends no mail.",
  request: { body: jsonBody(PasswordResetRequest) },
  responses: {
    202: { description: "If the email has a login, a link is on its way." },
    400: sessionErrorResponses[400],
    403: sessionErrorResponses[403],
    413: sessionErrorResponses[413],
    415: sessionErrorResponses[415],
    422: sessionErrorResponses[422],
    500: sessionErrorResponses[500],
  },
});

export const passwordResetConfirmRoute = createRoute({
  method: "post",
  path: "/auth/password-reset/confirm",
  operationId: "confirmPasswordReset",
  tags,
  security: [],
  summary: "Set a new password with a reset link's token (every session ends)",
  request: { body: jsonBody(PasswordResetConfirm) },
  responses: {
    204: { description: "The password is set; the link is used up and every session of the login ended." },
    ...sessionErrorResponses,
    404: errorContent("The link was used already or expired (`not_found`)."),
  },
});
