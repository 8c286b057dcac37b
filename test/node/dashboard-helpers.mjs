// Helpers for the dashboard's browser tests: Debian's Chromium driven by puppeteer-core
// against `npm start` (startServer). Nothing is downloaded; pages are waited on by their
// state (waitForSelector / waitForFunction), never by fixed sleeps.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import puppeteer from "puppeteer-core";

export const PASSWORD = "correct horse battery";

export async function launchBrowser() {
  return puppeteer.launch({
    executablePath: process.env.SNAPTRACK_BROWSER || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

/** A fresh incognito context (its own cookies) and a page in it at 1280 px. */
export async function newPage(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  // Anything our pages do that their CSP refuses (an inline style or script) shows up here.
  page.cspViolations = [];
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) page.cspViolations.push(msg.text());
  });
  await page.setViewport({ width, height });
  page.setDefaultTimeout(20_000);
  return page;
}

/**
 * A page to capture, on loopback (npm start allows 127.0.0.1:* targets). `/changing` is a
 * new version at every request (another colour, heading and price list), for change detection.
 */
export async function targetSite() {
  let version = 0;
  const server = createServer((req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    if (req.url === "/changing") {
      version += 1;
      const bg = version % 2 ? "#2b6cb0" : "#b7791f";
      const items =
        version % 2
          ? ["Apples 3 €", "Pears 4 €", "Plums 5 €"]
          : ["Apples 3 €", "Pears 4.50 €", "Plums 5 €", "Cherries 7 €"];
      res.end(
        `<body style="margin:0;background:${bg};color:#fff;font:24px sans-serif"><h1 style="font:64px sans-serif;margin:0 16px">Version ${version}</h1><ul>${items.map((i) => `<li>${i}</li>`).join("")}</ul></body>`,
      );
      return;
    }
    res.end(
      `<body style="margin:0;background:#2b6cb0;color:#fff"><h1 style="font:64px sans-serif">Target ${req.url}</h1></body>`,
    );
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export const uniqueEmail = (tag) => `${tag}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`;

/** Submits the form that `selector` is in and waits for the page it leads to. */
export async function submit(page, selector = "main form button[type=submit]") {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/** Signs up through the form; ends on the overview. */
export async function signUp(page, origin, tag = "dash") {
  const email = uniqueEmail(tag);
  await page.goto(`${origin}/signup`);
  await page.type("#f-name", "Dash Tester");
  await page.type("#f-email", email);
  await page.type("#f-password", PASSWORD);
  await submit(page);
  assert.equal(new URL(page.url()).pathname, "/app");
  return email;
}

/** Adds a website through the form; returns its id (ends on its page). */
export async function addWebsite(page, origin, { name, url }) {
  await page.goto(`${origin}/app/websites/new`);
  await page.type("#f-name", name);
  await page.type("#f-url", url);
  await submit(page);
  const match = /\/app\/websites\/([^/?#]+)$/.exec(new URL(page.url()).pathname);
  assert.ok(match, `expected a website page, got ${page.url()}`);
  return match[1];
}

/** The CSRF token of the current page (every signed-in page carries one in its log-out form). */
export const csrfOf = (page) => page.$eval("input[name=_csrf]", (el) => el.value);

/** The page's session cookie as a Cookie header, for fetch() outside the browser. */
export async function cookieHeader(page) {
  const cookies = await page.browserContext().cookies();
  return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

/** A webhook receiver on loopback: answers 204 and keeps every request (headers and body). */
export async function webhookReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Reloads `url` until `check` (run in the page) is true: for work the server finishes in the background. */
export async function reloadUntil(page, url, check, { timeout = 45_000, what = "the page" } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await page.goto(url);
    if (await page.evaluate(check)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 400));
  }
}
