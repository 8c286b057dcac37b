import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { imageSize } from "../../src/capture/image";
import { PLANS } from "../../src/limits/plans";
import { csrfToken } from "../../src/middleware/auth";
import {
  accountObject,
  accountSql,
  BASE,
  body,
  call,
  createWebsite,
  FIXTURE,
  inAccount,
  newAccount,
  type TestAccount,
} from "../helpers";

/**
 * Dashboard pages inside workerd. Pages are not API operations, so they are fetched
 * directly (not through `call`, which checks answers against the OpenAPI document).
 */
const page = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`${BASE}${path}`, init));
const HTML = { accept: "text/html" };

/** A form post as a same-origin browser sends it, with the session's CSRF token unless told otherwise. */
async function post(
  acc: TestAccount,
  path: string,
  fields: Record<string, string> = {},
  init: { csrf?: string | null; headers?: Record<string, string> } = {},
) {
  const csrf = init.csrf === undefined ? await csrfToken(acc.cookie.split("=").slice(1).join("=")) : init.csrf;
  const form = new URLSearchParams({ ...fields, ...(csrf === null ? {} : { _csrf: csrf }) });
  return page(path, {
    method: "POST",
    redirect: "manual",
    headers: {
      cookie: acc.cookie,
      origin: BASE,
      "sec-fetch-site": "same-origin",
      "content-type": "application/x-www-form-urlencoded",
      ...HTML,
      ...init.headers,
    },
    body: form,
  });
}

const usage = async (acc: TestAccount) =>
  (await body<{ usage: { captures_today: number } }>(await call("/account", { headers: { cookie: acc.cookie } }))).usage
    .captures_today;

async function settledRow(acc: TestAccount, id: string) {
  const read = async () =>
    (
      await accountSql<{ status: string; r2_key: string; thumb_key: string }>(
        acc.id,
        "SELECT * FROM screenshots WHERE id = ?",
        id,
      )
    )[0];
  await vi.waitFor(
    async () => {
      const row = await read();
      if (row?.status !== "completed" && row?.status !== "failed") throw new Error(`still ${row?.status}`);
    },
    { timeout: 45_000, interval: 200 },
  );
  return read();
}

describe("dashboard pages", () => {
  it("browsers get HTML pages (errors too) with the security headers; API clients keep JSON", async () => {
    const landing = await page("/", { headers: HTML });
    expect(landing.headers.get("content-type")).toMatch(/^text\/html/);
    expect(landing.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(landing.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await landing.text()).toContain("Sign up");
    expect((await page("/")).headers.get("content-type")).toMatch(/^application\/json/);

    const missing = await page("/nowhere", { headers: HTML });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("Page not found");
    expect((await page("/nowhere")).headers.get("content-type")).toMatch(/^application\/json/);
    const api = await page("/v1/websites", { headers: HTML });
    expect(api.status).toBe(401);
    expect(api.headers.get("content-type")).toMatch(/^application\/json/);

    // Signed out, /app pages send to the login page and come back.
    const app = await page("/app/websites", { headers: HTML, redirect: "manual" });
    expect(app.status).toBe(303);
    expect(app.headers.get("location")).toBe("/login?next=%2Fapp%2Fwebsites");
  });

  it("after logging in, goes back to a page of this site only (no open redirect)", async () => {
    const acc = await newAccount("free");
    const login = (next: string) =>
      page("/login", {
        method: "POST",
        redirect: "manual",
        headers: { origin: BASE, "content-type": "application/x-www-form-urlencoded", ...HTML },
        body: new URLSearchParams({ email: acc.email, password: acc.password, next }),
      });
    expect((await login("/app/websites?page=2")).headers.get("location")).toBe("/app/websites?page=2");
    // Browsers drop tabs/newlines and read "\\" as "/": each of these would leave the site.
    for (const next of [
      "//evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/\\evil.example",
      "https://evil.example",
    ]) {
      const res = await login(next);
      expect(res.status, next).toBe(303);
      expect(res.headers.get("location"), next).toBe("/app");
    }
  });

  it("refuses writes without the session's CSRF token or from another site", async () => {
    const acc = await newAccount("free");
    const fields = { name: "x", url: `${FIXTURE()}/colors` };
    const noToken = await post(acc, "/app/websites", fields, { csrf: null });
    expect(noToken.status).toBe(403);
    expect(noToken.headers.get("content-type")).toMatch(/^text\/html/);
    expect((await post(acc, "/app/websites", fields, { csrf: "0".repeat(64) })).status).toBe(403);
    expect((await post(acc, "/app/websites", fields, { headers: { origin: "https://evil.test" } })).status).toBe(403);
    expect((await post(acc, "/app/websites", fields, { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(
      403,
    );
    const [sites] = await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM websites");
    expect(sites?.n).toBe(0);
    const ok = await post(acc, "/app/websites", fields);
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toMatch(/^\/app\/websites\/web_/);
  });

  it("a dashboard capture on Free: the same exact quota as the API, a thumbnail, images only for their owner", async () => {
    const acc = await newAccount("free");
    const other = await newAccount("free");
    const site = await post(acc, "/app/websites", { name: "Colors", url: `${FIXTURE()}/colors` });
    const websiteId = (site.headers.get("location") ?? "").split("?")[0]?.split("/").pop() as string;

    // Free has no API rate allowance at all, yet the dashboard captures: no per-minute limit here.
    const queued = await post(
      acc,
      `/app/websites/${websiteId}/capture`,
      {},
      { headers: { accept: "application/json" } },
    );
    expect(queued.status).toBe(202);
    const shot = await body<{ id: string; status: string; html: string }>(queued);
    expect(shot.status).toBe("queued");
    expect(shot.html).toContain(`/app/screenshots/${shot.id}/status`);
    expect(await usage(acc)).toBe(1);

    const row = await settledRow(acc, shot.id);
    expect(row?.status).toBe("completed");
    const status = await body<{ status: string; html: string }>(
      await page(`/app/screenshots/${shot.id}/status`, { headers: { cookie: acc.cookie } }),
    );
    expect(status.status).toBe("completed");
    expect(status.html).toContain(`/app/screenshots/${shot.id}/thumb`);

    const thumb = await page(`/app/screenshots/${shot.id}/thumb`, { headers: { cookie: acc.cookie } });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/jpeg");
    const thumbBytes = new Uint8Array(await thumb.arrayBuffer());
    expect(thumbBytes.byteLength).toBeLessThanOrEqual(30 * 1024);
    expect(imageSize(thumbBytes)).toEqual({ width: 320, height: 200 });
    const image = await page(`/app/screenshots/${shot.id}/image`, { headers: { cookie: acc.cookie } });
    expect(image.status).toBe(200);
    expect(image.headers.get("content-disposition")).toMatch(/^inline/);
    expect(imageSize(new Uint8Array(await image.arrayBuffer()))).toEqual({ width: 1280, height: 800 });

    for (const path of ["", "/image", "/thumb", "/status"]) {
      const res = await page(`/app/screenshots/${shot.id}${path}`, { headers: { cookie: other.cookie, ...HTML } });
      expect(res.status, path).toBe(404);
    }

    // Use up the day's quota in the account's object (the counters the API uses): the next capture is refused, nothing queued.
    const left = PLANS.free.capturesPerDay - (await usage(acc));
    const consumed = await inAccount(acc.id, async (_db, object) => {
      await object.snapshot(); // the quota follows the account's plan
      return object.scope().quota.consume(left, Date.now());
    });
    expect(consumed.ok).toBe(true);
    const refused = await post(acc, `/app/websites/${websiteId}/capture`);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain(`daily capture quota of ${PLANS.free.capturesPerDay}`);
    expect(await usage(acc)).toBe(PLANS.free.capturesPerDay);
    const [rows] = await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM screenshots");
    expect(rows?.n).toBe(1);

    // Deleting the screenshot deletes the image and the thumbnail.
    const deleted = await post(acc, `/app/screenshots/${shot.id}/delete`);
    expect(deleted.status).toBe(303);
    expect(await env.SHOTS.head(row?.r2_key as string)).toBeNull();
    expect(await env.SHOTS.head(row?.thumb_key as string)).toBeNull();
  });

  it("refuses captures once the subscription has expired", async () => {
    const acc = await newAccount("starter");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    await env.DB.prepare("UPDATE accounts SET current_period_end = ? WHERE id = ?")
      .bind(Date.now() - 1000, acc.id)
      .run();
    await accountObject(acc.id).refresh(acc.id); // the directory changed: the object reads it again
    const res = await post(acc, `/app/websites/${site.id}/capture`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Renew it");
    expect(await usage(acc)).toBe(0);
  });
});
