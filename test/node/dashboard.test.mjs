// The web dashboard in a real browser (Debian's Chromium through puppeteer-core) against
// `npm start`: the flows a user clicks through, and the security a browser enforces.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { csrfOf, launchBrowser, newPage, PASSWORD, signUp, submit, targetSite } from "./dashboard-helpers.mjs";
import { scratch, startServer } from "./local-server.mjs";

const tmp = scratch("snaptrack-dash-tmp-");
const state = scratch("snaptrack-dash-state-");
let server;
let browser;
let site;

before(async () => {
  [server, browser, site] = await Promise.all([
    startServer({ tmp: tmp.dir, state: state.dir }),
    launchBrowser(),
    targetSite(),
  ]);
});

after(async () => {
  await browser?.close();
  site?.close();
  server?.kill();
  tmp.remove();
  state.remove();
});

describe("dashboard", () => {
  test("sign up, log out, log in again; pages carry a strict CSP", async () => {
    const page = await newPage(browser);
    const landing = await page.goto(`${server.origin}/`);
    const csp = landing.headers()["content-security-policy"];
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(await page.$eval("h1", (h) => h.textContent.includes("Watch your websites")), true);

    const email = await signUp(page, server.origin, "flow");
    assert.equal(await page.$eval("#plan-name", (el) => el.textContent), "Free");
    const cookie = (await page.browserContext().cookies()).find((c) => c.name === "snaptrack_session");
    assert.ok(cookie?.httpOnly, "the session cookie is HttpOnly");
    assert.equal(cookie.sameSite, "Lax");

    await submit(page, "header form button[type=submit]");
    assert.equal(new URL(page.url()).pathname, "/");
    await page.goto(`${server.origin}/app`);
    assert.equal(new URL(page.url()).pathname, "/login", "signed out, /app sends to the login page");

    await page.type("#f-email", email);
    await page.type("#f-password", "wrong password!");
    await submit(page);
    assert.match(await page.$eval("[role=alert]", (el) => el.textContent), /Email or password is wrong/);
    await page.type("#f-password", PASSWORD);
    await submit(page);
    assert.equal(new URL(page.url()).pathname, "/app");
    await page.browserContext().close();
  });

  test("cross-site form posts are refused; unknown pages are an HTML 404 in the same look", async () => {
    const page = await newPage(browser);
    await signUp(page, server.origin, "csrf");
    const token = await csrfOf(page);

    // A form on another site (the target server's origin) posting to the dashboard, with the
    // right token even: the browser sends Origin and Sec-Fetch-Site: cross-site.
    const evil = await newPage(browser);
    await evil.goto(`${site.origin}/evil`);
    const refused = evil.waitForResponse((r) => r.url() === `${server.origin}/logout`);
    await evil.evaluate(
      (action, csrf) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = action;
        const input = Object.assign(document.createElement("input"), { name: "_csrf", value: csrf });
        form.append(input);
        document.body.append(form);
        form.submit();
      },
      `${server.origin}/logout`,
      token,
    );
    assert.equal((await refused).status(), 403);

    // Same-origin, without the token: refused too; the session survives both.
    const status = await page.evaluate(async () => (await fetch("/logout", { method: "POST" })).status);
    assert.equal(status, 403);
    await page.goto(`${server.origin}/app`);
    assert.equal(new URL(page.url()).pathname, "/app");

    const missing = await page.goto(`${server.origin}/app/nothing-here`);
    assert.equal(missing.status(), 404);
    assert.match(missing.headers()["content-type"], /text\/html/);
    assert.equal(await page.$eval("h1", (h) => h.textContent), "Page not found");
    assert.ok(await page.$("header.top nav"), "the error page has the dashboard's layout");
    await page.browserContext().close();
    await evil.browserContext().close();
  });
});
