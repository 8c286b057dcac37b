import "./lib/zod-setup";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cors } from "hono/cors";
import type { AccountHost, AppEnv, Deps } from "./context";
import { accountStub } from "./db/account-stub";
import { systemClock } from "./lib/clock";
import { withResponseHeaders } from "./lib/openapi";
import { durableObjectLoginThrottle } from "./limits/login-throttle";
import {
  accountGate,
  apiGate,
  ownersOnlyUnder,
  sameOriginWrites,
  sessionAuth,
  sessionForward,
} from "./middleware/auth";
import { bodyLimit } from "./middleware/body-limit";
import { errorHandler, notFoundHandler, validationHook } from "./middleware/errors";
import { accountContext, requestContext } from "./middleware/request";
import { mountDocs } from "./pages/docs";
import { errorPage } from "./pages/errors";
import { mountPages } from "./pages/index";
import { accountRouter, v1AccountRouter } from "./routes/account/account.index";
import { alertChannelsRouter } from "./routes/alert-channels/alert-channels.index";
import { authRouter } from "./routes/auth/auth.index";
import { scenariosRouter } from "./routes/scenarios/scenarios.index";
import { schedulesRouter } from "./routes/schedules/schedules.index";
import { screenshotsRouter } from "./routes/screenshots/screenshots.index";
import { invitationRouter, teamRouter } from "./routes/team/team.index";
import { webhooksRouter } from "./routes/webhooks/webhooks.index";
import { websitesRouter } from "./routes/websites/websites.index";
import { SESSION_COOKIE } from "./services/auth";

export const API_VERSION = "1.0.0";

export const defaultDeps = (): Deps => ({
  clock: systemClock,
  loginThrottle: (env) => durableObjectLoginThrottle(env.LOGIN_THROTTLE),
  account: (env, accountId) => accountStub(env.ACCOUNT, accountId),
});

/**
 * The whole HTTP API and dashboard. Middleware order is the order of answers a client sees.
 *
 * The same app runs in two places. In the Worker (no `host`) it answers what needs no
 * account — the index, the docs, sign-up and log-in — and authenticates the rest: the token
 * or session names the account, and the request becomes one call to that account's object.
 * There (`host` is the object) the same routes run against the account's own database.
 */
export function createApp(deps: Deps = defaultDeps(), host?: AccountHost) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  if (host) {
    app.use("*", accountContext(deps, host));
  } else {
    app.use("*", requestContext(deps));
    app.use("*", bodyLimit());
  }

  // `GET /`: API clients get this index; browsers the landing page (mountPages, below).
  const apiIndex = (c: Context<AppEnv>) =>
    c.json({ name: "SnapTrack API", version: API_VERSION, docs: "/docs", openapi: "/v1/openapi.json" });
  // The API reference (src/pages/docs.ts): its script served from this Worker (no CDN).
  mountDocs(app);

  // CORS for the whole API, the OpenAPI document included. Only browsers send Origin, and
  // only they need the headers: other clients are spared the bytes.
  const corsHeaders = cors({
    origin: "*",
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Prefer"],
    exposeHeaders: [
      "X-Request-Id",
      "X-RateLimit-Limit",
      "X-RateLimit-Remaining",
      "X-RateLimit-Reset",
      "RateLimit",
      "RateLimit-Policy",
      "Retry-After",
      "ETag",
      "Content-Disposition",
      "Idempotent-Replayed",
      "Preference-Applied",
    ],
    maxAge: 86400,
  });
  if (!host) app.use("/v1/*", (c, next) => (c.req.header("Origin") ? corsHeaders(c, next) : next()));
  // The OpenAPI document is public and registered before the /v1 gate so it needs no token.
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "`snpt_…` API token from `POST /account/api-token`.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description: "Dashboard session from `POST /auth/signup` or `POST /auth/login` (HttpOnly, SameSite=Lax).",
  });
  const documentConfig = {
    openapi: "3.1.0",
    info: {
      title: "SnapTrack API",
      version: API_VERSION,
      description:
        "Screenshots of websites on demand, on schedules and inside test scenarios.\n\n" +
        "Every answer carries `X-Request-Id`; errors share one JSON envelope. A method a documented path does " +
        "not offer answers 405 `method_not_allowed` with an `Allow` header; an unknown path answers 404.",
      // OpenAPI 3.1 names a license by SPDX `identifier`; the library's type still follows 3.0.
      license: { name: "Proprietary: SnapTrack terms of service", identifier: "LicenseRef-SnapTrack-Proprietary" } as {
        name: string;
      },
    },
    servers: [{ url: "/" }],
  };
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get("/v1/openapi.json", (c) => {
    document ??= withResponseHeaders(app.getOpenAPI31Document(documentConfig));
    return c.json(document);
  });

  // Dashboard side: cookie sessions. Cross-site form posts are refused outright.
  app.use("/auth/*", sameOriginWrites());
  for (const path of ["/account", "/account/*"]) {
    app.use(path, host ? sessionAuth() : sameOriginWrites());
    if (!host) app.use(path, sessionForward());
  }
  // Plan, API token and members are managed by owners; members share everything else.
  ownersOnlyUnder(app, [
    "/account/plan",
    "/account/renew",
    "/account/api-token",
    "/account/invitations",
    "/account/members",
  ]);
  app.route("/", authRouter);
  app.route("/", invitationRouter);
  app.route("/", accountRouter);
  app.route("/", teamRouter);

  // API side: bearer token → subscription → plan → rate limit, then the route.
  app.use("/v1/*", host ? accountGate() : apiGate());
  app.route("/", v1AccountRouter);
  app.route("/", websitesRouter);
  app.route("/", screenshotsRouter);
  app.route("/", scenariosRouter);
  app.route("/", schedulesRouter);
  app.route("/", webhooksRouter);
  app.route("/", alertChannelsRouter);

  // The web dashboard (src/pages): landing, sign up, log in, /app.
  mountPages(app, apiIndex, host !== undefined);

  // Errors: the JSON envelope, or for browsers a page in the dashboard's look.
  app.notFound(notFoundHandler(app, errorPage));
  app.onError(errorHandler(errorPage));
  return app;
}

export type App = ReturnType<typeof createApp>;
