import { describe, expect, it } from "vitest";
import type { AccountStub } from "../../src/context";
import { ManualClock } from "../../src/lib/clock";
import { PLANS } from "../../src/limits/plans";
import { appWith, body, call, expectError, jsonInit, newAccount, sessionCookie } from "../helpers";

describe("/v1 authentication", () => {
  it.each([
    ["no header", undefined],
    ["wrong scheme", "Basic dXNlcjpwYXNz"],
    ["scheme only", "Bearer"],
    ["two spaces", "Bearer  snpt_x"],
    ["trailing space", "Bearer snpt_abc "],
    ["unknown but well-formed token", "__fresh__"],
  ])("answers 401 with WWW-Authenticate for %s", async (_name, header) => {
    const headers: Record<string, string> = {};
    if (header === "__fresh__") {
      const { generateApiToken } = await import("../../src/lib/api-token");
      headers.authorization = `Bearer ${generateApiToken()}`;
    } else if (header) headers.authorization = header;
    const res = await call("/v1/account", { headers });
    await expectError(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="snaptrack"/);
    expect(res.headers.get("x-ratelimit-limit")).toBeNull(); // not counted
  });

  it("accepts the scheme in any case with exactly one space", async () => {
    const acc = await newAccount("pro");
    expect((await call("/v1/account", { headers: { authorization: `bearer ${acc.token}` } })).status).toBe(200);
    const twoSpaces = await call("/v1/account", { headers: { authorization: `Bearer  ${acc.token}` } });
    await expectError(twoSpaces, 401, "unauthorized");
  });
});

describe("/v1 plan and subscription checks", () => {
  it("answers 403 api_access_unavailable on the free plan", async () => {
    const acc = await newAccount("free");
    const err = await expectError(await call("/v1/account", { headers: acc.auth }), 403, "api_access_unavailable");
    expect(err.message).toMatch(/free plan/i);
  });

  it("answers 403 subscription_expired once current_period_end has passed, before the free-plan check", async () => {
    const clock = new ManualClock(Date.parse("2031-03-10T10:00:00Z"));
    const api = appWith({ clock });
    const pro = await newAccount("pro", api);
    const free = await newAccount("free", api);
    clock.set("2031-04-10T10:00:00Z"); // exactly one month later: the period has ended
    await expectError(await api("/v1/account", { headers: pro.auth }), 403, "subscription_expired");
    await expectError(await api("/v1/account", { headers: free.auth }), 403, "subscription_expired");
    // Renewing (after logging in again: the 30-day session has lapsed too) extends from now.
    const login = await api("/auth/login", jsonInit("POST", { email: pro.email, password: pro.password }));
    const renewed = await api("/account/renew", { method: "POST", headers: { cookie: sessionCookie(login) } });
    const acc = await body<{ subscription: { status: string; current_period_end: string } }>(renewed);
    expect(acc.subscription).toMatchObject({ status: "active", current_period_end: "2031-05-10T10:00:00.000Z" });
    expect((await api("/v1/account", { headers: pro.auth })).status).toBe(200);
  });

  it("refused requests (401/403) use no rate-limit quota", async () => {
    const clock = new ManualClock(Date.parse("2031-06-01T08:00:10Z"));
    const api = appWith({ clock });
    const acc = await newAccount("free", api);
    for (let i = 0; i < 8; i++)
      await expectError(await api("/v1/account", { headers: acc.auth }), 403, "api_access_unavailable");
    // Same minute, now on starter (5/min): all five requests are still available.
    expect(
      (
        await api("/account/plan", {
          method: "PUT",
          headers: { cookie: acc.cookie, "content-type": "application/json" },
          body: '{"plan":"starter"}',
        })
      ).status,
    ).toBe(200);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await api("/v1/account", { headers: acc.auth })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});

describe("when the account's object fails", () => {
  it("answers 503 with Retry-After — never 500, never served without it", async () => {
    const acc = await newAccount("pro");
    const outage = () => Promise.reject(new Error("Durable Object reset because its code was updated."));
    const failing = { serve: outage, usage: outage } as unknown as AccountStub;
    const api = appWith({ account: () => failing });
    for (const [path, headers] of [
      ["/v1/account", acc.auth],
      ["/v1/websites", acc.auth],
      ["/account", { cookie: acc.cookie }],
    ] as const) {
      const res = await api(path, { headers });
      const err = await expectError(res, 503, "service_unavailable");
      expect(Number(res.headers.get("retry-after")), path).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(err), path).not.toMatch(/Durable Object|stack/);
      expect(JSON.stringify(err), path).not.toContain(acc.id);
    }
    // The same requests are answered once the object is back.
    expect((await call("/v1/account", { headers: acc.auth })).status).toBe(200);
  });
});

describe("GET /v1/account", () => {
  it("returns plan, limits from the plans table, usage and subscription", async () => {
    const acc = await newAccount("business");
    const res = await call("/v1/account", { headers: acc.auth });
    expect(res.status).toBe(200);
    const view = await body<Record<string, unknown>>(res);
    expect(view).toMatchObject({
      id: acc.id,
      email: acc.email,
      plan: "business",
      limits: {
        api_access: true,
        requests_per_minute: PLANS.business.requestsPerMinute,
        websites: PLANS.business.websites,
        history_days: PLANS.business.historyDays,
        captures_per_day: PLANS.business.capturesPerDay,
        captures_per_month: PLANS.business.capturesPerMonth,
        bulk_zip: true,
        team_users: PLANS.business.teamUsers,
        fastest_schedule_minutes: PLANS.business.fastestScheduleMinutes,
      },
      usage: { captures_today: 0, captures_this_month: 0 },
      subscription: { status: "active", pending_plan: null },
    });
    expect(JSON.stringify(view)).not.toMatch(/password|hash/i);
  });

  it("records a downgrade as pending until the period end, then applies it", async () => {
    const clock = new ManualClock(Date.parse("2031-01-15T12:00:00Z"));
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const put = await api("/account/plan", {
      method: "PUT",
      headers: { cookie: acc.cookie, "content-type": "application/json" },
      body: '{"plan":"starter"}',
    });
    const pending = await body<{ plan: string; subscription: { pending_plan: string; pending_plan_at: string } }>(put);
    expect(pending.plan).toBe("business");
    expect(pending.subscription).toMatchObject({
      pending_plan: "starter",
      pending_plan_at: "2031-02-15T12:00:00.000Z",
    });
    // Renew before the end: the downgrade still applies at the end of the paid period.
    await api("/account/renew", { method: "POST", headers: { cookie: acc.cookie } });
    clock.set("2031-02-15T12:00:00Z");
    const after = await body<{
      plan: string;
      limits: { requests_per_minute: number };
      subscription: { status: string; pending_plan: null };
    }>(await api("/v1/account", { headers: acc.auth }));
    expect(after.plan).toBe("starter");
    expect(after.limits.requests_per_minute).toBe(5);
    expect(after.subscription).toMatchObject({ status: "active", pending_plan: null });
  });

  it("applies an upgrade at once and cancels a pending downgrade", async () => {
    const acc = await newAccount("pro");
    const put = (plan: string) =>
      call("/account/plan", {
        method: "PUT",
        headers: { cookie: acc.cookie, "content-type": "application/json" },
        body: JSON.stringify({ plan }),
      });
    await put("starter");
    const up = await body<{ plan: string; subscription: { pending_plan: string | null } }>(await put("business"));
    expect(up.plan).toBe("business");
    expect(up.subscription.pending_plan).toBeNull();
    await expectError(await put("platinum"), 422, "validation_failed");
  });
});
