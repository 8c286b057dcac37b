import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/lib/clock";
import { durableObjectLimiter } from "../src/limits/account-limiter";
import { PLANS } from "../src/limits/plans";
import { appWith, body, call, createWebsite, expectError, FIXTURE, jsonInit, newAccount } from "./helpers";

const limiter = () => durableObjectLimiter(env.LIMITER);
const shotsOf = (accountId: string) =>
  env.DB.prepare("SELECT count(*) AS n FROM screenshots WHERE account_id = ?").bind(accountId).first<number>("n");

describe("capture quotas per day and month", () => {
  it("refuses the capture past the daily quota with 429 quota_exceeded and the reset time", async () => {
    const acc = await newAccount("pro");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const now = Date.now();
    // Pre-fill through the account's real limiter: 998 of 1,000 used today.
    expect((await limiter().consume(acc.id, PLANS.pro.capturesPerDay - 2, now)).ok).toBe(true);
    const shoot = () =>
      call("/v1/screenshots", jsonInit("POST", { website_id: site.id, capture: { delay_ms: 0 } }, acc.auth));
    expect((await shoot()).status).toBe(202);
    expect((await shoot()).status).toBe(202);
    const res = await shoot();
    const err = await expectError(res, 429, "quota_exceeded");
    const midnight = new Date(now);
    midnight.setUTCHours(24, 0, 0, 0);
    expect(err).toMatchObject({ limit: 1000, remaining: 0, reset_at: midnight.toISOString() });
    const expected = Math.ceil((midnight.getTime() - Date.now()) / 1000);
    expect(Math.abs((err.retry_after as number) - expected)).toBeLessThanOrEqual(1);
    expect(Number(res.headers.get("retry-after"))).toBe(err.retry_after);
    expect(err.message).toMatch(/daily/);
    expect(await shotsOf(acc.id)).toBe(2); // the refused one wrote nothing
    const view = await body<{ usage: { captures_today: number; captures_this_month: number } }>(
      await call("/v1/account", { headers: acc.auth }),
    );
    expect(view.usage.captures_today).toBe(1000);
  });

  it("is exact under concurrency: 10 parallel requests with 4 captures left, exactly 4 accepted", async () => {
    const acc = await newAccount("pro");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    await limiter().consume(acc.id, PLANS.pro.capturesPerDay - 4, Date.now());
    const statuses = (
      await Promise.all(
        Array.from({ length: 10 }, () => call("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth))),
      )
    ).map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    expect(await shotsOf(acc.id)).toBe(4);
  });

  it("refuses past the monthly quota until the next month", async () => {
    const clock = new ManualClock(Date.parse("2033-03-01T00:10:00Z"));
    const api = appWith({ clock });
    const acc = await newAccount("pro", api);
    const site = await createWebsite(acc, `${FIXTURE()}/colors`, undefined, api);
    // 20 days of March at the daily maximum: 20,000, the monthly quota.
    for (let day = 1; day <= 20; day++) {
      const r = await limiter().consume(acc.id, 1000, Date.parse(`2033-03-${String(day).padStart(2, "0")}T08:00:00Z`));
      expect(r.ok).toBe(true);
    }
    clock.set("2033-03-25T12:00:00Z");
    const err = await expectError(
      await api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth)),
      429,
      "quota_exceeded",
    );
    expect(err).toMatchObject({ limit: 20_000, remaining: 0, reset_at: "2033-04-01T00:00:00.000Z" });
    expect(err.message).toMatch(/monthly/);
    clock.set("2033-04-01T00:00:00Z");
    expect((await api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth))).status).toBe(202);
  });
});
