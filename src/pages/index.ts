import type { Context, Hono } from "hono";
import type { AppEnv } from "../context";
import { sameOriginWrites } from "../middleware/auth";
import { script, stylesheet } from "./assets";
import { landing, loginPage, loginSubmit, logoutSubmit, signupPage, signupSubmit } from "./auth";
import { overviewPage } from "./overview";
import { pageContext, pageSession } from "./session";

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
}
