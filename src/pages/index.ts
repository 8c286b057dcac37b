import type { Context, Hono } from "hono";
import type { AppEnv } from "../context";
import { sameOriginWrites } from "../middleware/auth";
import { script, stylesheet } from "./assets";
import { landing, loginPage, loginSubmit, logoutSubmit, signupPage, signupSubmit } from "./auth";
import { mountChangePages } from "./changes";
import { overviewPage } from "./overview";
import {
  deleteScreenshotSubmit,
  screenshotImage,
  screenshotPage,
  screenshotStatus,
  screenshotThumb,
} from "./screenshots";
import { ownerOnly, pageContext, pageSession } from "./session";
import {
  apiKeysPage,
  changePlanSubmit,
  generateTokenSubmit,
  planPage,
  renewSubmit,
  revokeTokenSubmit,
} from "./settings";
import { mountWebhookPages } from "./webhooks";
import {
  captureSubmit,
  createWebsiteSubmit,
  deleteWebsitePage,
  deleteWebsiteSubmit,
  editWebsitePage,
  editWebsiteSubmit,
  newWebsitePage,
  websitePage,
  websitesPage,
} from "./websites";

/**
 * The dashboard: server-rendered pages over the same services as the API. Every page is
 * marked as one (`pageContext`: HTML errors, security headers); every write is same-origin
 * (`sameOriginWrites`); `/app` pages need a session (`pageSession`, which also checks the
 * CSRF token on writes). Owner-only pages add `ownerOnly()`.
 */
export function mountPages(app: Hono<AppEnv>, apiIndex: (c: Context<AppEnv>) => Response) {
  // `GET /`: browsers (Accept: text/html) get the landing page, or /app when signed in.
  const browser = (c: Context<AppEnv>) => (c.req.header("Accept") ?? "").includes("text/html");
  app.use("/", (c, next) => (browser(c) ? pageContext()(c, next) : next()));
  app.get("/", (c) => (browser(c) ? landing(c) : apiIndex(c)));

  app.get("/assets/app.css", stylesheet);
  app.get("/assets/app.js", script);

  for (const path of ["/signup", "/login", "/logout", "/app", "/app/*"]) {
    app.use(path, pageContext());
    app.use(path, sameOriginWrites());
  }
  app.use("/logout", pageSession());
  app.use("/app", pageSession());
  app.use("/app/*", pageSession());

  app.get("/signup", signupPage);
  app.post("/signup", signupSubmit);
  app.get("/login", loginPage);
  app.post("/login", loginSubmit);
  app.post("/logout", logoutSubmit);

  app.get("/app", overviewPage);

  app.get("/app/websites", websitesPage);
  app.post("/app/websites", createWebsiteSubmit);
  app.get("/app/websites/new", newWebsitePage);
  app.get("/app/websites/:id", (c) => websitePage(c));
  app.get("/app/websites/:id/edit", editWebsitePage);
  app.post("/app/websites/:id/edit", editWebsiteSubmit);
  app.get("/app/websites/:id/delete", deleteWebsitePage);
  app.post("/app/websites/:id/delete", deleteWebsiteSubmit);
  app.post("/app/websites/:id/capture", captureSubmit);

  app.get("/app/screenshots/:id", screenshotPage);
  app.get("/app/screenshots/:id/image", screenshotImage);
  app.get("/app/screenshots/:id/thumb", screenshotThumb);
  app.get("/app/screenshots/:id/status", screenshotStatus);
  app.post("/app/screenshots/:id/delete", deleteScreenshotSubmit);
  mountChangePages(app);
  mountWebhookPages(app);

  app.use("/app/settings/api-keys", ownerOnly());
  app.use("/app/settings/api-keys/*", ownerOnly());
  app.use("/app/settings/plan", ownerOnly());
  app.use("/app/settings/plan/*", ownerOnly());
  app.get("/app/settings/api-keys", apiKeysPage);
  app.post("/app/settings/api-keys", generateTokenSubmit);
  app.post("/app/settings/api-keys/revoke", revokeTokenSubmit);
  app.get("/app/settings/plan", planPage);
  app.post("/app/settings/plan", changePlanSubmit);
  app.post("/app/settings/plan/renew", renewSubmit);
}
