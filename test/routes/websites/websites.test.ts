import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../src/lib/clock";
import {
  accountSql,
  appWith,
  body,
  call,
  createScenario,
  createWebsite,
  expectError,
  FIXTURE,
  jsonInit,
  newAccount,
  requestCapture,
  settled,
} from "../../helpers";

type Website = {
  id: string;
  name: string;
  url: string;
  capture: Record<string, unknown>;
  last_capture_at: string | null;
};
type Page<T> = { data: T[]; next_cursor: string | null };

describe("websites CRUD", () => {
  it("creates (201 + Location), reads, lists, patches and deletes", async () => {
    const acc = await newAccount("pro");
    const res = await call(
      "/v1/websites",
      jsonInit("POST", { name: "Home", url: `${FIXTURE()}/colors`, capture: { full_page: true } }, acc.auth),
    );
    expect(res.status).toBe(201);
    const site = await body<Website & { created_at: string }>(res);
    expect(res.headers.get("location")).toBe(`/v1/websites/${site.id}`);
    expect(site).toMatchObject({
      name: "Home",
      url: `${FIXTURE()}/colors`,
      capture: { full_page: true },
      last_capture_at: null,
    });
    expect(site.id).toMatch(/^web_[0-9a-z]{26}$/);

    expect(await body(await call(`/v1/websites/${site.id}`, { headers: acc.auth }))).toEqual(site);
    const patched = await body<Website>(
      await call(`/v1/websites/${site.id}`, jsonInit("PATCH", { name: "Renamed" }, acc.auth)),
    );
    expect(patched).toMatchObject({ name: "Renamed", url: site.url, capture: { full_page: true } });
    const recaptured = await body<Website>(
      await call(`/v1/websites/${site.id}`, jsonInit("PATCH", { capture: { format: "webp" } }, acc.auth)),
    );
    expect(recaptured.capture).toEqual({ format: "webp" }); // capture replaces the defaults

    const list = await body<Page<Website>>(await call("/v1/websites", { headers: acc.auth }));
    expect(list.data.map((w) => w.id)).toEqual([site.id]);

    expect((await call(`/v1/websites/${site.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    await expectError(await call(`/v1/websites/${site.id}`, { headers: acc.auth }), 404, "not_found");
  });

  it("validates name, url and capture options", async () => {
    const acc = await newAccount("pro");
    const err = await expectError(
      await call(
        "/v1/websites",
        jsonInit("POST", { name: "", url: "ftp://example.com", capture: { timeout_ms: 10 } }, acc.auth),
      ),
      422,
      "validation_failed",
    );
    expect(err.errors).toMatchObject({ name: ["Is required"], "capture.timeout_ms": ["Must be ≥ 1000"] });
    const url = await expectError(
      await call("/v1/websites", jsonInit("POST", { name: "x", url: "ftp://example.com" }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(url.errors).toEqual({ url: ["Must be an http or https URL"] });
    const extra = await expectError(
      await call("/v1/websites", jsonInit("POST", { name: "x", url: "https://example.com", colour: "red" }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(Object.keys(extra.errors ?? {})).toEqual(["body"]);
  });

  it("names an unknown field and suggests the known one it was probably meant to be", async () => {
    const acc = await newAccount("pro");
    const err = await expectError(
      await call(
        "/v1/websites",
        jsonInit(
          "POST",
          {
            name: "x",
            url: "https://example.com",
            colour: "red",
            capture: { fullPage: true, viewport: { widht: 800 } },
          },
          acc.auth,
        ),
      ),
      422,
      "validation_failed",
    );
    expect(err.errors).toEqual({
      body: ["Unknown field `colour`"],
      capture: ["Unknown field `fullPage`; did you mean `full_page`?"],
      "capture.viewport": ["Unknown field `widht`; did you mean `width`?"],
    });
    const many = await expectError(
      await call(
        "/v1/screenshots",
        jsonInit("POST", { website_id: "web_x", capture: { delay: 5, FORMAT: "png", zzz: 1 } }, acc.auth),
      ),
      422,
      "validation_failed",
    );
    expect(many.errors?.capture).toEqual([
      "Unknown fields: `delay` (did you mean `delay_ms`?), `FORMAT` (did you mean `format`?), `zzz`",
    ]);
    const site = await createWebsite(acc, "https://example.com/");
    const step = await expectError(
      await call(
        "/v1/scenarios",
        jsonInit(
          "POST",
          { website_id: site.id, name: "s", steps: [{ action: "click", selector: "#a", optinal: true }] },
          acc.auth,
        ),
      ),
      422,
      "validation_failed",
    );
    expect(step.errors).toEqual({ "steps.0": ["Unknown field `optinal`; did you mean `optional`?"] });
  });

  it("paginates newest first", async () => {
    const acc = await newAccount("pro");
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await createWebsite(acc, `https://example${i}.com/`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Website> = await body(
        await call(`/v1/websites?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { headers: acc.auth }),
      );
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((w) => w.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it("records last_capture_at after a capture", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    await settled(acc, (await requestCapture(acc, site.id)).id);
    const after = await body<Website>(await call(`/v1/websites/${site.id}`, { headers: acc.auth }));
    expect(after.last_capture_at).not.toBeNull();
  });
});

describe("plan website limits", () => {
  it("refuses the website past the plan's count with 403 plan_limit_reached, even in parallel", async () => {
    const acc = await newAccount("starter"); // 5 websites
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call("/v1/websites", jsonInit("POST", { name: `s${i}`, url: `https://site${i}.example.com/` }, acc.auth)),
      ),
    );
    // starter allows 5 requests a minute too; the sixth create comes from a fresh minute.
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const api = appWith({ clock: new ManualClock(Date.now() + 60_000) });
    const err = await expectError(
      await api("/v1/websites", jsonInit("POST", { name: "six", url: "https://six.example.com/" }, acc.auth)),
      403,
      "plan_limit_reached",
    );
    expect(err.message).toMatch(/5 websites/);
  });

  it("keeps over-limit websites readable after a downgrade but refuses new ones", async () => {
    const clock = new ManualClock(Date.parse("2033-01-10T09:00:00Z"));
    const api = appWith({ clock });
    const acc = await newAccount("pro", api);
    for (let i = 0; i < 6; i++) await createWebsite(acc, `https://d${i}.example.com/`, undefined, api);
    await api("/account/plan", jsonInit("PUT", { plan: "starter" }, { cookie: acc.cookie }));
    await api("/account/renew", { method: "POST", headers: { cookie: acc.cookie } });
    clock.set("2033-02-10T09:00:01Z"); // the downgrade applies at the old period end
    const list = await body<Page<Website>>(await api("/v1/websites", { headers: acc.auth }));
    expect(list.data).toHaveLength(6);
    await expectError(
      await api("/v1/websites", jsonInit("POST", { name: "x", url: "https://x.example.com/" }, acc.auth)),
      403,
      "plan_limit_reached",
    );
  });
});

describe("deleting a website", () => {
  it("deletes its screenshots' rows and R2 bytes, its scenarios and its schedules", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, { website_id: site.id, name: "s", steps: [{ action: "wait", ms: 1 }] });
    const sched = await body<{ id: string }>(
      await call("/v1/schedules", jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, acc.auth)),
    );
    const shots = [await requestCapture(acc, site.id), await requestCapture(acc, site.id)];
    for (const s of shots) await settled(acc, s.id);
    const prefix = `acc/${acc.id}/web/${site.id}/`;
    expect((await env.SHOTS.list({ prefix })).objects).toHaveLength(6); // two images, two thumbnails, two texts
    const other = await createWebsite(acc, `${FIXTURE()}/colors`);
    const kept = await settled(acc, (await requestCapture(acc, other.id)).id);

    expect((await call(`/v1/websites/${site.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    for (const s of shots)
      await expectError(await call(`/v1/screenshots/${s.id}`, { headers: acc.auth }), 404, "not_found");
    await expectError(await call(`/v1/scenarios/${scenario.id}`, { headers: acc.auth }), 404, "not_found");
    await expectError(await call(`/v1/schedules/${sched.id}`, { headers: acc.auth }), 404, "not_found");
    const [rows] = await accountSql<{ n: number }>(
      acc.id,
      "SELECT count(*) AS n FROM screenshots WHERE website_id = ?",
      site.id,
    );
    expect(rows?.n).toBe(0);
    await vi.waitFor(async () => expect((await env.SHOTS.list({ prefix })).objects).toHaveLength(0), {
      timeout: 15_000,
      interval: 200,
    });
    // The other website's screenshot is untouched.
    expect((await call(`/v1/screenshots/${kept.id}/download`, { headers: acc.auth })).status).toBe(200);
  });
});
