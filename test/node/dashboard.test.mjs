// The web dashboard in a real browser (Debian's Chromium through puppeteer-core) against
// `npm start`: the flows a user clicks through, and the security a browser enforces.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import {
  addWebsite,
  cookieHeader,
  csrfOf,
  launchBrowser,
  newPage,
  PASSWORD,
  reloadUntil,
  signUp,
  submit,
  targetSite,
  webhookReceiver,
} from "./dashboard-helpers.mjs";
import { scratch, sleep, startServer } from "./local-server.mjs";

const tmp = scratch("snaptrack-dash-tmp-");
const state = scratch("snaptrack-dash-state-");
let server;
let browser;
let site;
let receiver;

before(async () => {
  [server, browser, site, receiver] = await Promise.all([
    startServer({ tmp: tmp.dir, state: state.dir }),
    launchBrowser(),
    targetSite(),
    webhookReceiver(),
  ]);
});

after(async () => {
  await browser?.close();
  site?.close();
  receiver?.close();
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
    // The landing page shows the product: what it does in three lines, a real comparison as
    // its picture (served by this Worker), and every plan with its prices.
    assert.equal(await page.$$eval("#what-it-does li", (lis) => lis.length), 3);
    await page.waitForFunction(() => document.querySelector(".hero-shot img")?.naturalWidth > 1000);
    const prices = await page.$$eval(".plans .plan", (cards) =>
      cards.map(
        (c) =>
          `${c.querySelector("h2").textContent}: ${c.querySelector(".price").textContent.replace(/\s+/g, " ").trim()}`,
      ),
    );
    assert.deepEqual(prices, [
      "Free: $0 forever",
      "Starter: $19 a month",
      "Pro: $49 a month",
      "Business: $149 a month",
    ]);
    assert.match(await page.$eval("main", (m) => m.textContent), /\$490 a year/);
    assert.match(await page.$eval("main", (m) => m.textContent), /Payment is not part of SnapTrack yet/);

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

  test("a Free account: website (field errors), live capture, screenshot page; then API token, revoke, downgrade", async () => {
    const page = await newPage(browser);
    await signUp(page, server.origin, "free");

    // A bad URL is shown beside its field, with the other values kept.
    // The form starts with an address and a name; the capture options wait under "Advanced".
    await page.goto(`${server.origin}/app/websites/new`);
    assert.equal(await page.$eval("#advanced", (d) => d.open), false);
    assert.ok((await page.evaluate(() => document.documentElement.scrollHeight)) < 1200, "a short form");
    assert.match(await page.$eval("#detection-summary", (p) => p.textContent), /Change detection is on/);
    await page.type("#f-name", "Target");
    await page.type("#f-url", "ftp://example.com/");
    await page.click("#advanced summary");
    await page.type("#f-viewport-width", "100");
    await submit(page);
    assert.equal(await page.$eval("#advanced", (d) => d.open), true, "open where its errors are");
    assert.match(await page.$eval("#f-url-error", (el) => el.textContent), /http/i);
    assert.match(await page.$eval("#f-viewport-width-error", (el) => el.textContent), /320/);
    assert.equal(await page.$eval("#f-name", (el) => el.value), "Target");
    const websiteId = await addWebsite(page, server.origin, { name: "Target", url: `${site.origin}/home` });
    await page.goto(`${server.origin}/app/websites`);
    assert.match(await page.$eval("main", (m) => m.textContent), /free plan allows 1 website/);
    assert.equal(await page.$("a[href='/app/websites/new']"), null, "no Add at the plan's limit");
    await page.goto(`${server.origin}/app/websites/${websiteId}`);

    // Take a screenshot: the tile appears and goes to completed without the page reloading.
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    await page.click("#take-screenshot");
    await page.waitForSelector("#gallery .tile[data-status-url]");
    await page.waitForSelector("#gallery .tile[data-status=completed] img.thumb", { timeout: 45_000 });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
    assert.equal(new URL(page.url()).pathname, `/app/websites/${websiteId}`);
    assert.equal(await page.$eval("#capture-message", (el) => el.textContent), "Screenshot completed.");
    // "Last capture" follows the tile, to the second.
    assert.match(
      await page.$eval("#last-capture", (el) => el.textContent),
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/,
    );

    // The gallery shows a thumbnail (small), never the full image.
    const thumbSrc = await page.$eval("#gallery img.thumb", (img) => img.getAttribute("src"));
    const thumb = await page.evaluate(async (src) => {
      const r = await fetch(src);
      return { status: r.status, type: r.headers.get("content-type"), size: (await r.arrayBuffer()).byteLength };
    }, thumbSrc);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.type, "image/jpeg");
    assert.ok(thumb.size > 0 && thumb.size <= 30 * 1024, `thumbnail of ${thumb.size} bytes`);

    // The screenshot page: the image, its metadata, a download link.
    await Promise.all([page.waitForNavigation(), page.click("#gallery .tile a")]);
    const shotPath = new URL(page.url()).pathname;
    assert.match(shotPath, /^\/app\/screenshots\/[^/]+$/);
    await page.waitForFunction(() => document.querySelector("img.shot-full")?.naturalWidth === 1280);
    const meta = await page.$eval("dl.meta", (dl) => dl.textContent);
    assert.match(meta, /1280 × 800 px/);
    assert.match(meta, /png/);
    assert.match(meta, /Source\s*dashboard/, "taken in the dashboard");
    assert.ok(await page.$(`a[href="${shotPath}/image?download=1"]`));
    const download = await page.evaluate(
      async (href) => (await fetch(href)).headers.get("content-disposition"),
      `${shotPath}/image?download=1`,
    );
    assert.match(download, /^attachment; filename="target-\d{8}-\d{6}\.png"$/);

    // Another account sees neither the page nor the image: 404.
    const other = await newPage(browser);
    await signUp(other, server.origin, "other");
    for (const path of [shotPath, `${shotPath}/image`, `${shotPath}/thumb`, `/app/websites/${websiteId}`]) {
      const res = await fetch(`${server.origin}${path}`, { headers: { cookie: await cookieHeader(other) } });
      assert.equal(res.status, 404, path);
    }
    await other.browserContext().close();

    // Free: the API keys page explains that the API needs Starter or higher.
    await page.goto(`${server.origin}/app/settings/api-keys`);
    assert.match(await page.$eval("main", (m) => m.textContent), /Starter plan or higher/);
    assert.equal(await page.$("form[action='/app/settings/api-keys'] button"), null, "no token to generate on Free");

    // Upgrade: the plan page shows prices; the change asks first and says what it adds.
    await page.goto(`${server.origin}/app/settings/plan`);
    assert.match(await page.$eval("#card-pro .price", (el) => el.textContent), /\$49/);
    await Promise.all([page.waitForNavigation(), page.click("#card-pro a.btn")]);
    assert.match(await page.$eval("#gains", (el) => el.textContent), /REST API/);
    await submit(page, "#confirm-plan");
    assert.equal(await page.$eval("#current-plan", (el) => el.textContent), "Pro");
    assert.match(await page.$eval("[role=status]", (el) => el.textContent), /You are on Pro now/);

    // A token: generated, shown once by the page after the redirect. Reloading that page
    // (what the browser's reload does to a GET) shows it no more, makes no new token, and the
    // token keeps working.
    await page.goto(`${server.origin}/app/settings/api-keys`);
    await submit(page, "#generate");
    const token = await page.$eval("#new-token", (el) => el.value);
    assert.match(token, /^snpt_/);
    assert.match(await page.$eval("main", (m) => m.textContent), /will not be shown again/);
    const v1 = () => fetch(`${server.origin}/v1/account`, { headers: { authorization: `Bearer ${token}` } });
    const ok = await v1();
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).plan, "pro");
    await page.reload();
    assert.equal(await page.$("#new-token"), null, "the token is shown only once");
    assert.match(await page.$eval("main", (m) => m.textContent), /was shown once/);
    assert.equal((await v1()).status, 200, "the reload made no new token");
    await page.goBack();
    assert.equal((await v1()).status, 200, "nor did going back");
    await page.goto(`${server.origin}/app/settings/api-keys`);
    const prefix = await page.$eval("#token-prefix", (el) => el.textContent.replace(/…$/, ""));
    assert.ok(prefix.length >= 9 && token.startsWith(prefix), `prefix ${prefix}`);
    // Revoking asks first.
    await Promise.all([page.waitForNavigation(), page.click("#revoke")]);
    assert.equal((await v1()).status, 200, "the question changes nothing");
    await submit(page, "main form button.danger");
    assert.match(await page.$eval("[role=status]", (el) => el.textContent), /revoked/);
    assert.equal((await v1()).status, 401);

    // A downgrade asks first, listing what the new plan will stop; then waits for the period's end.
    await page.goto(`${server.origin}/app/settings/plan`);
    await Promise.all([page.waitForNavigation(), page.click("#card-free a.btn")]);
    const losses = await page.$eval("#losses", (el) => el.textContent);
    assert.match(losses, /The API: every call with the account's token answers 403/);
    assert.match(losses, /History is kept 7 days/);
    await page.goto(`${server.origin}/app/settings/plan`);
    await Promise.all([page.waitForNavigation(), page.click("#card-starter a.btn")]);
    await submit(page, "#confirm-plan");
    assert.equal(await page.$eval("#current-plan", (el) => el.textContent), "Pro");
    assert.match(await page.$eval("#pending-plan", (el) => el.textContent), /Starter on \d{4}-\d{2}-\d{2}/);
    assert.deepEqual(page.cspViolations, [], "no page breaks its own Content-Security-Policy");
    await page.browserContext().close();
  });
  test("a scenario built and run (one step numbering), a schedule from a preset and edited, a member who joins by mail, sees but does not manage webhooks, and is removed", async () => {
    const o = server.origin;
    const page = await newPage(browser);
    await page.emulateTimezone("Europe/Berlin");
    await signUp(page, o, "team");
    await page.goto(`${o}/app/settings/plan/change?plan=starter`);
    await submit(page, "#confirm-plan");
    const websiteId = await addWebsite(page, o, { name: "Team site", url: `${site.origin}/team` });

    // The editor is one form: add a step (the page comes back at it, not at the top), save with
    // its field empty (the API's error beside it), fill it, move it up, add a check that fails.
    await page.goto(`${o}/app/scenarios/new?website_id=${websiteId}`);
    await page.type("#f-name", "Smoke");
    await page.select("#f-new_action", "assert_visible");
    await submit(page, "button[value=add]");
    assert.equal(new URL(page.url()).hash, "#step-1", "back at the step just added");
    assert.ok((await page.evaluate(() => window.scrollY)) > 0, "scrolled to it");
    await submit(page, "form.editor > p.row button[value=save]");
    assert.match(await page.$eval("#f-steps-1-selector-error", (el) => el.textContent), /Is required/);
    await page.type("#f-steps-1-selector", "h1");
    await submit(page, "button[value='up:1']");
    assert.equal(await page.$eval("#f-steps-0-action", (el) => el.value), "assert_visible");
    assert.equal(await page.$eval("#f-steps-0-selector", (el) => el.value), "h1");
    assert.equal(await page.$eval("#f-steps-1-name", (el) => el.value), "home");
    await page.select("#f-new_action", "assert_text");
    await submit(page, "button[value=add]");
    await page.type("#f-steps-2-contains", "Not on the page");
    await page.type("#f-steps-2-timeout_ms", "500");
    await page.select("#f-new_action", "screenshot");
    await submit(page, "button[value=add]");
    await page.type("#f-steps-3-name", "after");
    // The scenario's own capture options are editable too.
    await page.click("#scenario-capture summary");
    await page.type("#f-capture-viewport-width", "1024");
    await submit(page, "form.editor > p.row button[value=save]");
    const scenarioPath = new URL(page.url()).pathname;
    assert.match(scenarioPath, /^\/app\/scenarios\/scn_/);

    // Run: the run page follows it live. Step 3 fails: the banner, the table and the failure
    // screenshot all call it step 3, and the step after it is skipped.
    await submit(page, "#run-scenario");
    assert.match(new URL(page.url()).pathname, /^\/app\/runs\/run_/);
    await page.waitForSelector("#run-results:not([data-run-status-url]) #run-status .status.failed", {
      timeout: 45_000,
    });
    const rows = await page.$$eval("#step-results tbody tr", (trs) =>
      trs.map((tr) => ({
        n: tr.cells[0].textContent,
        status: tr.querySelector(".status").textContent,
        duration: tr.cells[3].textContent,
        shot: tr.querySelector("a.run-shot")?.getAttribute("href") ?? null,
      })),
    );
    assert.deepEqual(
      rows.map((r) => `${r.n} ${r.status}`),
      ["1 passed", "2 passed", "3 failed", "4 skipped"],
    );
    assert.match(await page.$eval("[role=alert]", (el) => el.textContent), /^Step 3 \(assert_text\) failed/);
    assert.match(rows[1].duration, /^\d+(\.\d)? m?s$/);
    assert.match(rows[1].shot, /^\/app\/screenshots\/shot_/);
    assert.match(await page.$eval("#step-results tbody tr:nth-child(3) img", (img) => img.alt), /failure-step-3/);
    await page.waitForFunction(() => document.querySelector("a.run-shot img.thumb")?.naturalWidth > 0);
    const thumbType = await page.$eval("a.run-shot img.thumb", async (img) =>
      (await fetch(img.src)).headers.get("content-type"),
    );
    assert.equal(thumbType, "image/jpeg");
    await page.goto(`${o}${scenarioPath}`);
    assert.deepEqual(
      await page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => tr.cells[2].textContent)),
      ["dashboard"],
      "started here: trigger dashboard",
    );
    // Scenario images live with their runs, not in the website's gallery.
    await page.goto(`${o}/app/websites/${websiteId}`);
    assert.equal(await page.$("#gallery .tile"), null);

    // A schedule from a preset, in the browser's time zone: the preview says it in words, and
    // a preset too fast for Starter is refused with the plan's limit.
    await page.goto(`${o}/app/schedules/new?scenario_id=${scenarioPath.split("/").pop()}`);
    assert.match(await page.$eval("#fastest", (el) => el.textContent), /every 1 h/);
    assert.equal(await page.$eval("#f-timezone", (el) => el.value), "Europe/Berlin");
    await page.click("#f-preset-weekdays");
    await page.$eval("#f-at", (el) => {
      el.value = "09:00";
    });
    await submit(page, "button[value=preview]");
    assert.match(
      await page.$eval("#preview-words", (el) => el.textContent),
      /At 09:00, Monday through Friday \(Europe\/Berlin\)/,
    );
    const runs = await page.$$eval("#preview li", (lis) => lis.map((li) => li.textContent));
    assert.equal(runs.length, 3);
    for (const run of runs) assert.match(run, /09:00 Europe\/Berlin/);
    await submit(page, "#save-schedule");
    assert.match(await page.$eval("#schedule", (el) => el.textContent), /At 09:00, Monday through Friday/);
    // Edited (the API's PATCH): once a week, on Saturday at 10:30.
    await Promise.all([page.waitForNavigation(), page.click("#edit-schedule")]);
    assert.equal(await page.$eval("#f-preset-weekdays", (el) => el.checked), true, "the form starts from the schedule");
    await page.click("#f-preset-weekly");
    await page.select("#f-day", "6");
    await page.$eval("#f-at", (el) => {
      el.value = "10:30";
    });
    await submit(page, "#save-schedule");
    assert.match(await page.$eval("[role=status]", (el) => el.textContent), /Schedule saved/);
    assert.match(await page.$eval("#schedule", (el) => el.textContent), /At 10:30, only on Saturday/);
    await page.goto(`${o}/app/schedules`);
    assert.match(
      await page.$eval("#schedules", (el) => el.textContent),
      /At 10:30, only on Saturday \(Europe\/Berlin\)/,
    );

    // An endpoint the owner adds, for the member to see below.
    await page.goto(`${o}/app/settings/webhooks`);
    await page.type("#f-url", receiver.url);
    await submit(page);
    const hookPath = new URL(page.url()).pathname;

    // Invite a member: the link is mailed, and shown once by the page after the redirect; a
    // reload invites nobody again and the first link still works.
    const memberEmail = `member.${Date.now()}@example.com`;
    await page.goto(`${o}/app/settings/team`);
    await page.type("#f-email", memberEmail);
    await submit(page, "form[action$=invitations] button[type=submit]");
    const link = await page.$eval("#invite-link", (el) => el.value);
    assert.match(await page.$eval("#invited", (el) => el.textContent), /We mailed them the link/);
    assert.match(await page.$eval("#seats", (el) => el.textContent), /2 of 3/);
    await page.reload();
    assert.equal(await page.$("#invite-link"), null, "shown once");
    assert.match(await page.$eval("#seats", (el) => el.textContent), /2 of 3/, "the reload invited nobody");
    // The mail, in the local outbox, as the invitee gets it.
    await page.goto(`${o}/app/settings/outbox`);
    await Promise.all([page.waitForNavigation(), page.click("#outbox tbody tr a")]);
    assert.match(await page.$eval("#mail-headers", (el) => el.textContent), new RegExp(memberEmail));
    assert.match(
      await page.$eval("#mail-text", (el) => el.textContent),
      new RegExp(link.replace(/[.?*+^$()|[\]\\]/g, "\\$&")),
    );
    const frame = await (await page.$("#mail-html")).contentFrame();
    await frame.waitForSelector("a");
    assert.equal(await frame.$eval("a", (a) => a.href), link);

    const member = await newPage(browser);
    await member.goto(link);
    assert.match(
      await member.$eval("#invitation", (el) => el.textContent),
      new RegExp(`${memberEmail}[\\s\\S]*Member`),
    );
    await member.type("#f-name", "Mia Member");
    await member.type("#f-password", PASSWORD);
    await submit(member);
    assert.equal(new URL(member.url()).pathname, "/app");
    assert.equal((await member.goto(link)).status(), 404, "the link works once");

    // The member sees the account's websites, not the owner-only pages (nor their links).
    await member.goto(`${o}/app/websites`);
    assert.match(await member.$eval("main", (m) => m.textContent), /Team site/);
    assert.equal(await member.$("nav a[href='/app/settings/api-keys']"), null);
    const refused = await member.goto(`${o}/app/settings/api-keys`);
    assert.equal(refused.status(), 403);
    assert.equal(await member.$eval("h1", (h) => h.textContent), "Not allowed");
    // Webhooks: the member sees the endpoint and its log, with nothing to change them.
    await member.goto(`${o}/app/settings/webhooks`);
    assert.ok(await member.$("#endpoints"));
    assert.equal(await member.$("form[action='/app/settings/webhooks']"), null, "no form to add one");
    await member.goto(`${o}${hookPath}`);
    assert.match(await member.$eval("#owners-manage", (el) => el.textContent), /Only an owner/);
    assert.equal(await member.$("main form"), null, "no test, disable, rotate or edit");
    const post = await member.evaluate(
      async (path, csrf) =>
        (await fetch(`${path}/disable`, { method: "POST", body: new URLSearchParams({ _csrf: csrf }) })).status,
      hookPath,
      await csrfOf(member),
    );
    assert.equal(post, 403);

    // Removed (after a confirmation page that lists what they added), the member's session ends.
    await page.goto(`${o}/app/settings/team`);
    await Promise.all([page.waitForNavigation(), page.click("#members a[href$='/remove']")]);
    assert.match(
      await page.$eval("#created-none", (el) => el.textContent),
      /added no webhook endpoints or alert channels\./,
    );
    await submit(page, "main form button.danger");
    assert.match(await page.$eval("[role=status]", (el) => el.textContent), /removed/);
    await member.goto(`${o}/app/websites`);
    assert.equal(new URL(member.url()).pathname, "/login");
    assert.deepEqual([...page.cspViolations, ...member.cspViolations], []);
    await member.browserContext().close();
    await page.browserContext().close();
  });

  test("webhooks (secret once, a test delivered and signed), an email alert channel, two captures of a changing page compared (pixels and text), the change email in the outbox, approved", async () => {
    const page = await newPage(browser);
    const email = await signUp(page, server.origin, "changes");

    // Settings → Alerts: an email channel to the owner's own address (no confirmation needed), and a test alert.
    await page.goto(`${server.origin}/app/settings/alerts`);
    await page.type("#f-target", email);
    assert.equal(await page.$eval("#f-websites-all", (el) => el.checked), true, "every website unless told otherwise");
    await submit(page, "#add-channel button[type=submit]");
    assert.match(new URL(page.url()).pathname, /^\/app\/settings\/alerts\/alc_/);
    assert.match(await page.$eval("#channel-state", (el) => el.textContent), /enabled/);
    const channelPath = new URL(page.url()).pathname;
    await submit(page, "#send-test");
    await reloadUntil(
      page,
      `${server.origin}${channelPath}`,
      () => document.querySelector("#deliveries tbody tr .status")?.textContent === "delivered",
      { what: "the test alert" },
    );

    // Settings → Webhooks: an endpoint for every event; its secret is shown once.
    await page.goto(`${server.origin}/app/settings/webhooks`);
    await page.type("#f-url", receiver.url);
    assert.equal(await page.$eval("#f-events-all", (el) => el.checked), true, "all events unless told otherwise");
    await submit(page);
    const secret = await page.$eval("#new-secret", (el) => el.value);
    assert.match(secret, /^whsec_/);
    assert.match(await page.$eval("#secret-box", (el) => el.textContent), /will not be shown again/);
    const hookPath = new URL(page.url()).pathname;
    // Reloading the page that showed the secret: no secret, and still one endpoint (the reload
    // repeated nothing).
    await page.reload();
    assert.equal(await page.$("#new-secret"), null, "the secret is shown only once");
    await page.goto(`${server.origin}/app/settings/webhooks`);
    assert.equal(await page.$$eval("#endpoints tbody tr", (trs) => trs.length), 1);
    await page.goto(`${server.origin}${hookPath}`);

    // Send a test: the log shows it delivered by itself (no reload); the receiver verifies the
    // signature with the secret.
    await submit(page, "#send-test");
    await page.waitForFunction(
      () => document.querySelector("#deliveries tbody tr .status")?.textContent === "delivered",
      { timeout: 30_000 },
    );
    assert.match(await page.$eval("#deliveries tbody tr", (tr) => tr.textContent), /webhook\.test[\s\S]*204/);
    const test = receiver.received.find((r) => JSON.parse(r.body).type === "webhook.test");
    assert.ok(test, "the receiver got the test event");
    assert.doesNotThrow(() => new Webhook(secret).verify(test.body, test.headers));

    // Two captures of a page that changes between them: the second is compared and changed.
    const websiteId = await addWebsite(page, server.origin, { name: "Changing", url: `${site.origin}/changing` });
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    for (const n of [1, 2]) {
      await page.click("#take-screenshot");
      await page.waitForFunction(
        (want) => document.querySelectorAll("#gallery .tile[data-status=completed]").length === want,
        { timeout: 45_000 },
        n,
      );
    }
    // The change history follows the tiles too: the change shows without a reload.
    await page.waitForSelector("#changes li a", { timeout: 30_000 });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
    assert.ok(await page.$("#gallery .tile a.cmp"), "the changed capture's tile has a changed badge");
    // On a phone the website's page (gallery, history, alert choices naming the owner's
    // address) and Settings → Alerts fit the screen: nothing scrolls sideways.
    await page.setViewport({ width: 375, height: 800 });
    for (const path of ["/app/settings/alerts", `/app/websites/${websiteId}`]) {
      await page.goto(`${server.origin}${path}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `${path} is ${width} px wide at 375`);
    }
    await page.setViewport({ width: 1280, height: 900 });
    await Promise.all([page.waitForNavigation(), page.click("#changes li a")]);
    assert.match(new URL(page.url()).pathname, /^\/app\/screenshots\/[^/]+\/compare$/);
    const changedPixels = Number((await page.$eval("#changed-pixels", (el) => el.textContent)).replaceAll(",", ""));
    assert.ok(changedPixels > 0, `changed pixels: ${changedPixels}`);
    await page.waitForFunction(() =>
      ["#diff", "#before", "#after"].every((s) => document.querySelector(s)?.naturalWidth === 1280),
    );
    // The text diff beside the pixels: the heading's old line removed, the new one added.
    assert.deepEqual(await page.$$eval("#text-added li", (lis) => lis.map((li) => li.textContent)), [
      "Version 2",
      "Pears 4.50 €",
      "Cherries 7 €",
    ]);
    assert.deepEqual(await page.$$eval("#text-removed li", (lis) => lis.map((li) => li.textContent)), [
      "Version 1",
      "Pears 4 €",
    ]);
    const comparePath = new URL(page.url()).pathname;
    // The slider (the script's): visible, and the range cuts this capture over the baseline.
    assert.equal(await page.$eval("#slider", (el) => el.hidden), false);
    await page.$eval("#slider-range", (el) => {
      el.value = "30";
      el.dispatchEvent(new Event("input"));
    });
    assert.equal(await page.$eval("#slider-after", (el) => el.style.clipPath), "inset(0px 0px 0px 30%)");

    // The change email, as its recipient sees it, in Settings → Outbox (local only).
    await reloadUntil(
      page,
      `${server.origin}/app/settings/outbox`,
      () => [...document.querySelectorAll("#outbox a")].some((a) => /^Changing changed \(/.test(a.textContent)),
      { what: "the change email" },
    );
    const subjects = await page.$$eval("#outbox a", (as) => as.map((a) => a.textContent));
    assert.ok(subjects.includes("SnapTrack test alert"), subjects.join(", "));
    await Promise.all([
      page.waitForNavigation(),
      page.$$eval("#outbox a", (as) => as.find((a) => /^Changing changed \(/.test(a.textContent)).click()),
    ]);
    assert.match(
      await page.$eval("#mail-headers", (el) => el.textContent),
      /List-Unsubscribe-Post\s*List-Unsubscribe=One-Click/,
    );
    const frame = await (await page.waitForSelector("#mail-html")).contentFrame();
    await frame.waitForFunction(() => document.querySelector("img")?.naturalWidth > 0);
    // biome-ignore lint/performance/useDomNodeTextContent: the lines as laid out, as the recipient reads them
    const mailText = await frame.$eval("body", (b) => b.innerText);
    assert.match(mailText, /\+ Version 2\s+\+ Pears 4\.50 €\s+\+ Cherries 7 €/);
    assert.match(mailText, /− Version 1\s+− Pears 4 €/);
    assert.equal(
      await frame.$eval("a[href$='/compare']", (a) => new URL(a.href).pathname),
      comparePath,
      "the email links to the compare page",
    );
    if (process.env.DASHBOARD_SHOTS) {
      // For a person to look at (npm test does not set it): the outbox page, and the mail alone.
      const { mkdirSync } = await import("node:fs");
      mkdirSync(process.env.DASHBOARD_SHOTS, { recursive: true });
      await page.setViewport({ width: 1280, height: 1300 });
      await page.screenshot({ path: `${process.env.DASHBOARD_SHOTS}/outbox-change-email.png`, fullPage: true });
      const mailPage = await page.browserContext().newPage();
      await mailPage.setViewport({ width: 700, height: 900 });
      await mailPage.goto(frame.url());
      await mailPage.screenshot({ path: `${process.env.DASHBOARD_SHOTS}/change-email.png`, fullPage: true });
      await mailPage.close();
    }
    await page.goto(`${server.origin}${comparePath}`);

    // Approve as baseline: the website compares with it from now on (said on the page and in
    // its settings); the receiver got change.detected for it.
    await submit(page, "#approve");
    assert.ok(await page.$("#approved-baseline"));
    assert.match(await page.$eval("[role=status]", (el) => el.textContent), /compared with this one from now on/);
    const shotId = new URL(page.url()).pathname.split("/")[3];
    await page.goto(`${server.origin}/app/websites/${websiteId}`);
    assert.match(await page.$eval("#detection", (el) => el.textContent), /differs from the approved baseline/);
    await page.goto(`${server.origin}/app/websites/${websiteId}/edit`);
    assert.equal(await page.$eval("#f-change_detection-baseline", (el) => el.value), "approved");
    const changes = () => receiver.received.map((r) => JSON.parse(r.body)).filter((b) => b.type === "change.detected");
    for (const deadline = Date.now() + 30_000; !changes().length && Date.now() < deadline; ) await sleep(200);
    assert.deepEqual(
      changes().map((b) => b.data.id),
      [shotId],
    );
    assert.deepEqual(page.cspViolations, [], "no page breaks its own Content-Security-Policy");
    await page.browserContext().close();
  });

  test("the account page: name, password, a reset mailed from the login page, deleting the account; /docs asks no other host", async () => {
    const o = server.origin;
    const page = await newPage(browser);
    const email = await signUp(page, o, "account");
    await page.goto(`${o}/app`);
    await Promise.all([page.waitForNavigation(), page.click("header .who a")]);
    assert.equal(new URL(page.url()).pathname, "/app/account");

    // Name: saved with a message; as the owner it names the account too.
    await page.$eval("#f-name", (el) => {
      el.value = "";
    });
    await page.type("#f-name", "Ada Lovelace");
    await submit(page, "form[action$='/name'] button");
    assert.match(await page.$eval("[role=status]", (el) => el.textContent), /Your name was saved/);
    assert.match(await page.$eval("#who", (el) => el.textContent), /Owner of Ada Lovelace/);

    // Password: a wrong current one is refused beside its field; the right one logs out the
    // other session and keeps this one.
    const other = await newPage(browser);
    await other.goto(`${o}/login`);
    await other.type("#f-email", email);
    await other.type("#f-password", PASSWORD);
    await submit(other);
    await page.type("#f-current_password", "not the password");
    await page.type("#f-new_password", "a new long password");
    await submit(page, "form[action$='/password'] button");
    assert.match(await page.$eval("#f-current_password-error", (el) => el.textContent), /Is not your current password/);
    await page.type("#f-current_password", PASSWORD);
    await page.type("#f-new_password", "a new long password");
    await submit(page, "form[action$='/password'] button");
    assert.match(await page.$eval("[role=status]", (el) => el.textContent), /Your password was changed/);
    await other.goto(`${o}/app`);
    assert.equal(new URL(other.url()).pathname, "/login", "the other session ended");

    // Forgot it: from the login page, a reset link is mailed (the outbox shows it locally).
    await Promise.all([other.waitForNavigation(), other.click("#forgot")]);
    await other.type("#f-email", email);
    await submit(other);
    assert.match(await other.$eval("[role=status]", (el) => el.textContent), /a reset link is on its way/);
    await other.reload();
    await page.goto(`${o}/app/settings/outbox`);
    const subjects = await page.$$eval("#outbox tbody tr", (trs) => trs.map((tr) => tr.textContent));
    assert.equal(
      subjects.filter((t) => /Reset your SnapTrack password/.test(t)).length,
      1,
      "a reload sent no second mail",
    );
    await Promise.all([page.waitForNavigation(), page.click("#outbox tbody tr a")]);
    const link = /https?:\/\/\S+\/reset-password\/\S+/.exec(
      await page.$eval("#mail-text", (el) => el.textContent),
    )?.[0];
    assert.ok(link, "the mail has the link");
    await other.goto(link);
    assert.equal(await other.$eval("#reset-email", (el) => el.textContent), email);
    await other.type("#f-password", "the reset password");
    await submit(other);
    assert.match(await other.$eval("[role=status]", (el) => el.textContent), /Your password was changed/);
    assert.equal((await other.goto(link)).status(), 404, "the link works once");
    await page.goto(`${o}/app`);
    assert.equal(new URL(page.url()).pathname, "/login", "every session ended");
    await page.type("#f-email", email);
    await page.type("#f-password", "the reset password");
    await submit(page);
    assert.equal(new URL(page.url()).pathname, "/app");

    // Deleting the account asks for the password on a page of its own, then everything goes.
    await page.goto(`${o}/app/account`);
    await Promise.all([page.waitForNavigation(), page.click("#delete-account")]);
    assert.match(await page.$eval("#what-goes", (el) => el.textContent), /0 websites/);
    await page.type("#f-password", "the reset password");
    await submit(page, "#confirm-delete");
    assert.equal(new URL(page.url()).pathname, "/");
    assert.match(
      await page.$eval("[role=status]", (el) => el.textContent),
      /Your account and everything in it were deleted/,
    );
    const login = await fetch(`${o}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "the reset password" }),
    });
    assert.equal(login.status, 401, "the login is gone");

    // /docs: the reference under SnapTrack's header, nothing asked of another host, its own CSP.
    const docs = await newPage(browser);
    const requests = [];
    docs.on("request", (r) => requests.push(r.url()));
    const res = await docs.goto(`${o}/docs`, { waitUntil: "networkidle0" });
    assert.match(res.headers()["content-security-policy"], /script-src 'self'/);
    await docs.waitForFunction(() => document.body.textContent.includes("Start a session"), { timeout: 30_000 });
    // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees, not hidden markup
    const text = await docs.evaluate(() => document.body.innerText);
    for (const control of ["Ask AI", "Generate MCP", "Deploy", "Developer Tools"])
      assert.ok(!text.includes(control), control);
    assert.equal(await docs.$eval("header a.brand", (a) => a.getAttribute("href")), "/");
    assert.deepEqual(
      requests.filter((u) => !u.startsWith(o) && !u.startsWith("data:") && !u.startsWith("blob:")),
      [],
      "no request to another host",
    );
    assert.deepEqual([...page.cspViolations, ...other.cspViolations, ...docs.cspViolations], []);
    for (const p of [page, other, docs]) await p.browserContext().close();
  });
});
