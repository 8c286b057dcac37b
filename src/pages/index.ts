import type { Context, Hono } from "hono";
import type { AppEnv } from "../context";
import { ownerOnly, ownersOnlyUnder, sameOriginWrites } from "../middleware/auth";
import {
  accountPageRoute,
  deleteAccountPage,
  deleteAccountSubmit,
  forgotPage,
  forgotSubmit,
  passwordSubmit,
  renameSubmit,
  resetPage,
  resetSubmit,
} from "./account";
import { mountAlertLinkPages } from "./alert-links";
import { mountAlertPages } from "./alerts";
import { script, stylesheet } from "./assets";
import { landing, loginPage, loginSubmit, logoutSubmit, signupPage, signupSubmit } from "./auth";
import { mountChangePages } from "./changes";
import { mountOutboxPages } from "./outbox";
import { overviewPage } from "./overview";
import {
  deleteScenarioPage,
  deleteScenarioSubmit,
  editScenarioPage,
  editScenarioSubmit,
  newScenarioPage,
  newScenarioSubmit,
  runPage,
  runScenarioSubmit,
  runStatus,
  scenarioPageRoute,
  scenariosPage,
} from "./scenarios";
import {
  deleteSchedulePage,
  deleteScheduleSubmit,
  editSchedulePage,
  editScheduleSubmit,
  newSchedulePage,
  newScheduleSubmit,
  pauseScheduleSubmit,
  resumeScheduleSubmit,
  schedulePageRoute,
  schedulesPage,
} from "./schedules";
import {
  deleteScreenshotPage,
  deleteScreenshotSubmit,
  screenshotImage,
  screenshotPage,
  screenshotStatus,
  screenshotThumb,
  selectedZip,
} from "./screenshots";
import { edgePageSession, pageContext, pageForward, pageSession } from "./session";
import {
  apiKeysPage,
  changePlanPage,
  changePlanSubmit,
  generateTokenSubmit,
  planPage,
  regenerateTokenPage,
  renewPage,
  renewSubmit,
  revokeTokenPage,
  revokeTokenSubmit,
} from "./settings";
import {
  acceptInvitationSubmit,
  invitationPage,
  inviteSubmit,
  removeMemberPage,
  removeMemberSubmit,
  revokeInvitationPage,
  revokeInvitationSubmit,
  teamSettingsPage,
} from "./team";
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
 * (`sameOriginWrites`); `/app` pages need a session (`pageForward` in the Worker, then
 * `pageSession` in the account's object, which also checks the CSRF token on writes). Owner-only pages add the API's own `ownerOnly()`: a member gets
 * its 403 as an HTML page.
 */
export function mountPages(app: Hono<AppEnv>, apiIndex: (c: Context<AppEnv>) => Response, inAccount: boolean) {
  // `GET /`: browsers (Accept: text/html) get the landing page, or /app when signed in.
  const browser = (c: Context<AppEnv>) => (c.req.header("Accept") ?? "").includes("text/html");
  app.use("/", (c, next) => (browser(c) ? pageContext()(c, next) : next()));
  app.get("/", (c) => (browser(c) ? landing(c) : apiIndex(c)));

  app.get("/assets/app.css", stylesheet);
  app.get("/assets/app.js", script);

  for (const path of [
    "/signup",
    "/login",
    "/logout",
    "/invite/*",
    "/password-reset",
    "/reset-password/*",
    "/app",
    "/app/*",
  ]) {
    app.use(path, pageContext());
    app.use(path, sameOriginWrites());
  }
  // Signed-in pages: in the Worker, the session names the account and the page is one call
  // to its object; there, the page runs against the account's own database.
  app.use("/logout", edgePageSession());
  app.use("/app", inAccount ? pageSession() : pageForward());
  app.use("/app/*", inAccount ? pageSession() : pageForward());

  app.get("/signup", signupPage);
  app.post("/signup", signupSubmit);
  app.get("/login", loginPage);
  app.post("/login", loginSubmit);
  app.post("/logout", logoutSubmit);
  app.get("/invite/:token", invitationPage);
  app.post("/invite/:token", acceptInvitationSubmit);
  app.get("/password-reset", forgotPage);
  app.post("/password-reset", forgotSubmit);
  app.get("/reset-password/:token", resetPage);
  app.post("/reset-password/:token", resetSubmit);
  // Links in alert emails (no session): served by the Worker, which asks the token's account.
  if (!inAccount) mountAlertLinkPages(app);

  app.get("/app", overviewPage);
  app.get("/app/account", accountPageRoute);
  app.post("/app/account/name", renameSubmit);
  app.post("/app/account/password", passwordSubmit);
  app.get("/app/account/delete", deleteAccountPage);
  app.post("/app/account/delete", deleteAccountSubmit);

  app.get("/app/websites", websitesPage);
  app.post("/app/websites", createWebsiteSubmit);
  app.get("/app/websites/new", newWebsitePage);
  app.get("/app/websites/:id", (c) => websitePage(c));
  app.get("/app/websites/:id/edit", editWebsitePage);
  app.post("/app/websites/:id/edit", editWebsiteSubmit);
  app.get("/app/websites/:id/delete", deleteWebsitePage);
  app.post("/app/websites/:id/delete", deleteWebsiteSubmit);
  app.post("/app/websites/:id/capture", captureSubmit);

  app.get("/app/downloads/screenshots.zip", selectedZip);
  app.get("/app/screenshots/:id", screenshotPage);
  app.get("/app/screenshots/:id/image", screenshotImage);
  app.get("/app/screenshots/:id/thumb", screenshotThumb);
  app.get("/app/screenshots/:id/status", screenshotStatus);
  app.get("/app/screenshots/:id/delete", deleteScreenshotPage);
  app.post("/app/screenshots/:id/delete", deleteScreenshotSubmit);
  mountChangePages(app);
  mountWebhookPages(app);
  mountAlertPages(app);

  app.get("/app/scenarios", scenariosPage);
  app.get("/app/scenarios/new", newScenarioPage);
  app.post("/app/scenarios/new", newScenarioSubmit);
  app.get("/app/scenarios/:id", scenarioPageRoute);
  app.get("/app/scenarios/:id/edit", editScenarioPage);
  app.post("/app/scenarios/:id/edit", editScenarioSubmit);
  app.post("/app/scenarios/:id/run", runScenarioSubmit);
  app.get("/app/scenarios/:id/delete", deleteScenarioPage);
  app.post("/app/scenarios/:id/delete", deleteScenarioSubmit);
  app.get("/app/runs/:id", runPage);
  app.get("/app/runs/:id/status", runStatus);

  app.get("/app/schedules", (c) => schedulesPage(c));
  app.get("/app/schedules/new", newSchedulePage);
  app.post("/app/schedules/new", newScheduleSubmit);
  app.get("/app/schedules/:id", schedulePageRoute);
  app.get("/app/schedules/:id/edit", editSchedulePage);
  app.post("/app/schedules/:id/edit", editScheduleSubmit);
  app.post("/app/schedules/:id/pause", pauseScheduleSubmit);
  app.post("/app/schedules/:id/resume", resumeScheduleSubmit);
  app.get("/app/schedules/:id/delete", deleteSchedulePage);
  app.post("/app/schedules/:id/delete", deleteScheduleSubmit);

  ownersOnlyUnder(app, ["/app/settings/api-keys", "/app/settings/plan"]);
  app.get("/app/settings/api-keys", apiKeysPage);
  app.post("/app/settings/api-keys", generateTokenSubmit);
  app.get("/app/settings/api-keys/regenerate", regenerateTokenPage);
  app.get("/app/settings/api-keys/revoke", revokeTokenPage);
  app.post("/app/settings/api-keys/revoke", revokeTokenSubmit);
  app.get("/app/settings/plan", planPage);
  app.post("/app/settings/plan", changePlanSubmit);
  app.get("/app/settings/plan/change", changePlanPage);
  app.get("/app/settings/plan/renew", renewPage);
  app.post("/app/settings/plan/renew", renewSubmit);

  // Members may see the team; inviting, revoking and removing are the owners'.
  app.get("/app/settings/team", teamSettingsPage);
  app.use("/app/settings/team/*", ownerOnly());
  app.post("/app/settings/team/invitations", inviteSubmit);
  app.get("/app/settings/team/invitations/:id/revoke", revokeInvitationPage);
  app.post("/app/settings/team/invitations/:id/revoke", revokeInvitationSubmit);
  app.get("/app/settings/team/members/:id/remove", removeMemberPage);
  app.post("/app/settings/team/members/:id/remove", removeMemberSubmit);

  mountOutboxPages(app);
}
