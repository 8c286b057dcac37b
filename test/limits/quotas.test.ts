import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleQueue } from "../../src/jobs/consumer";
import { ManualClock } from "../../src/lib/clock";
import { PLANS } from "../../src/limits/plans";
import type { JobMessage } from "../../src/queue/messages";
import { objectQueues } from "../account-queues";
import {
  accountSql,
  appWith,
  body,
  createWebsite,
  expectError,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  type RunView,
  type TestAccount,
} from "../helpers";

/** Reserves `captures` through the account's own quota (its object's counters), at `now`. */
const consume = (accountId: string, captures: number, now: number) =>
  inAccount(accountId, async (_db, object) => {
    await object.snapshot(); // the quota follows the account's plan
    return object.scope().quota.consume(captures, now);
  });
const shotsOf = async (accountId: string) =>
  (await accountSql<{ n: number }>(accountId, "SELECT count(*) AS n FROM screenshots"))[0]?.n;

/** A queue that accepts every message and delivers none: the test hands jobs to the consumer itself. */
const heldQueue = { send: async () => {}, sendBatch: async () => {} } as unknown as Queue;

/** An account on `api` whose object holds the jobs it accepts (nothing is delivered). */
async function heldAccount(plan: "pro", api: ReturnType<typeof appWith>) {
  const acc = await newAccount(plan, api);
  await objectQueues(acc.id, { JOBS: heldQueue });
  return acc;
}

/** Delivers one run job to the consumer, which reads the time from `clock`. */
async function deliverRun(acc: TestAccount, runId: string, clock: ManualClock) {
  const batch = createMessageBatch<JobMessage>("snaptrack-jobs", [
    { id: runId, timestamp: new Date(), attempts: 1, body: { type: "run", run_id: runId, account_id: acc.id } },
  ]);
  const ctx = createExecutionContext();
  await handleQueue(batch, env, ctx, clock);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([runId]);
}

describe("capture quotas per day and month", () => {
  // Every test reads the time from a fixed clock, so none depends on when it runs (no UTC
  // midnight between filling the quota and asking). Accepted captures are not delivered: the
  // quota is decided when they are accepted.

  it("refuses the capture past the daily quota with 429 quota_exceeded and the reset time", async () => {
    const clock = new ManualClock(Date.parse("2033-06-15T12:00:00Z"));
    const api = appWith({ clock });
    const acc = await heldAccount("pro", api);
    const site = await createWebsite(acc, `${FIXTURE()}/colors`, undefined, api);
    // Pre-fill through the account's real counters: 998 of 1,000 used today.
    expect((await consume(acc.id, PLANS.pro.capturesPerDay - 2, clock.now())).ok).toBe(true);
    const shoot = () => api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth));
    expect((await shoot()).status).toBe(202);
    clock.advance(1000);
    expect((await shoot()).status).toBe(202);
    clock.set("2033-06-15T23:59:59.500Z");
    const res = await shoot();
    const err = await expectError(res, 429, "quota_exceeded");
    expect(err).toMatchObject({ limit: 1000, remaining: 0, reset_at: "2033-06-16T00:00:00.000Z", retry_after: 1 });
    expect(res.headers.get("retry-after")).toBe("1");
    expect(err.message).toMatch(/daily/);
    expect(await shotsOf(acc.id)).toBe(2); // the refused one wrote nothing
    const view = await body<{ usage: { captures_today: number; captures_this_month: number } }>(
      await api("/v1/account", { headers: acc.auth }),
    );
    expect(view.usage).toMatchObject({ captures_today: 1000, captures_this_month: 1000 });
    // At midnight UTC the day's quota is back; the month's count goes on.
    clock.set("2033-06-16T00:00:00Z");
    expect((await shoot()).status).toBe(202);
    const next = await body<{ usage: { captures_today: number; captures_this_month: number } }>(
      await api("/v1/account", { headers: acc.auth }),
    );
    expect(next.usage).toMatchObject({ captures_today: 1, captures_this_month: 1001 });
  });

  it("is exact under concurrency: 10 parallel requests with 4 captures left, exactly 4 accepted", async () => {
    const clock = new ManualClock(Date.parse("2033-06-15T12:00:00Z"));
    const api = appWith({ clock });
    const acc = await heldAccount("pro", api);
    const site = await createWebsite(acc, `${FIXTURE()}/colors`, undefined, api);
    expect((await consume(acc.id, PLANS.pro.capturesPerDay - 4, clock.now())).ok).toBe(true);
    const statuses = (
      await Promise.all(
        Array.from({ length: 10 }, () => api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth))),
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
      const r = await consume(acc.id, 1000, Date.parse(`2033-03-${String(day).padStart(2, "0")}T08:00:00Z`));
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

describe("capture quota of scenario runs, decided by the consumer's clock", () => {
  it("a run's screenshot counts on the day the consumer takes it, not the day it was queued", async () => {
    const clock = new ManualClock(Date.parse("2033-08-10T10:00:00Z"));
    const api = appWith({ clock });
    const acc = await heldAccount("pro", api);
    const site = await createWebsite(acc, `${FIXTURE()}/colors`, undefined, api);
    const created = await api(
      "/v1/scenarios",
      jsonInit(
        "POST",
        { website_id: site.id, name: "shot", steps: [{ action: "screenshot", name: "home" }] },
        acc.auth,
      ),
    );
    expect(created.status).toBe(201);
    const scenario = await body<{ id: string }>(created);
    const start = async () => {
      const res = await api(`/v1/scenarios/${scenario.id}/run`, { method: "POST", headers: acc.auth });
      expect(res.status, await res.clone().text()).toBe(202);
      return (await body<RunView>(res)).id;
    };
    // Both runs are accepted with quota left; then the day's quota is used up.
    const today = await start();
    const tomorrow = await start();
    expect((await consume(acc.id, PLANS.pro.capturesPerDay, clock.now())).ok).toBe(true);

    // Taken the same day: the screenshot step finds no quota and the run fails on it.
    clock.set("2033-08-10T23:59:59Z");
    await deliverRun(acc, today, clock);
    const refused = await body<RunView>(await api(`/v1/runs/${today}`, { headers: acc.auth }));
    expect(refused.status).toBe("failed");
    expect(refused.steps[0]).toMatchObject({ status: "failed", error: expect.stringMatching(/daily capture quota/) });

    // Taken after midnight UTC: the new day's quota pays for it.
    clock.set("2033-08-11T00:00:00Z");
    await deliverRun(acc, tomorrow, clock);
    const passed = await body<RunView>(await api(`/v1/runs/${tomorrow}`, { headers: acc.auth }));
    expect(passed.status).toBe("passed");
    const view = await body<{ usage: { captures_today: number } }>(await api("/v1/account", { headers: acc.auth }));
    expect(view.usage.captures_today).toBe(1);
  });
});
