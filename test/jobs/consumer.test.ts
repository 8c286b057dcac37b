import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { PURGE_PAGE } from "../../src/jobs/purge";
import { DAY, HOUR, ManualClock, MINUTE } from "../../src/lib/clock";
import type { JobMessage } from "../../src/queue/messages";
import { LOST_MESSAGE } from "../../src/services/sweep";
import { objectQueues } from "../account-queues";
import {
  accountObject,
  accountSql,
  appWith,
  body,
  call,
  createWebsite,
  inAccount,
  jsonInit,
  newAccount,
  type TestAccount,
} from "../helpers";

async function putObjects(prefix: string, n: number) {
  await Promise.all(
    Array.from({ length: n }, (_, i) => env.SHOTS.put(`${prefix}${String(i).padStart(5, "0")}.png`, "x")),
  );
}

const count = async (prefix: string) => {
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await env.SHOTS.list({ prefix, cursor });
    n += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return n;
};

describe("queue consumer", () => {
  it("is wired: a message sent on the JOBS queue is consumed by the Worker", async () => {
    const prefix = `acc/test-${crypto.randomUUID()}/`;
    await putObjects(prefix, 3);
    await env.JOBS.send({ type: "purge_prefix", prefix });
    await vi.waitFor(async () => expect(await count(prefix)).toBe(0), { timeout: 15_000, interval: 100 });
  });

  it("purges a large prefix page by page, re-enqueueing itself until done", async () => {
    const prefix = `acc/test-${crypto.randomUUID()}/`;
    await putObjects(prefix, PURGE_PAGE + 5);
    const batch = createMessageBatch<JobMessage>("snaptrack-jobs", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { type: "purge_prefix", prefix } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    // The first page is gone; the continuation message (delivered by the real queue) takes the rest.
    await vi.waitFor(async () => expect(await count(prefix)).toBe(0), { timeout: 15_000, interval: 100 });
  });

  it("acks a message that can never parse instead of retrying it forever", async () => {
    const batch = createMessageBatch<JobMessage>("snaptrack-jobs", [
      { id: "bad", timestamp: new Date(), attempts: 1, body: { type: "launch_rockets" } as unknown as JobMessage },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["bad"]);
    expect(result.retryMessages).toEqual([]);
  });
});

/** The account's plan fields in the directory. */
const planOf = (id: string) => env.DB.prepare("SELECT plan, pending_plan FROM accounts WHERE id = ?").bind(id).first();

/** A business account that has asked to move down to pro at the end of its period. */
async function downgrading(): Promise<{ acc: TestAccount; at: number }> {
  const acc = await newAccount("business");
  const res = await call("/account/plan", jsonInit("PUT", { plan: "pro" }, { cookie: acc.cookie }));
  expect(res.status).toBe(200);
  const row = await env.DB.prepare("SELECT pending_plan_at FROM accounts WHERE id = ?")
    .bind(acc.id)
    .first<{ pending_plan_at: number }>();
  expect(row?.pending_plan_at).toBeGreaterThan(Date.now());
  return { acc, at: row?.pending_plan_at as number };
}

describe("downgrades at the end of the period", () => {
  it("the account's own alarm is set for the downgrade, which its timers apply when its time has come", async () => {
    const { acc, at } = await downgrading();
    // The alarm waits for that moment (the request's clock is the real one here), and the
    // directory records it for the cron's backstop.
    const alarm = await inAccount(acc.id, (_db, _object, state) => state.storage.getAlarm());
    expect(Math.abs((alarm as number) - at)).toBeLessThan(1_000);
    await vi.waitFor(
      async () => {
        const row = await env.DB.prepare("SELECT wake_at FROM accounts WHERE id = ?").bind(acc.id).first();
        expect(row).toEqual({ wake_at: at });
      },
      { timeout: 5_000, interval: 50 },
    );

    const object = accountObject(acc.id);
    expect((await object.wake(acc.id, at - MINUTE)).planChanged).toBe(false);
    expect(await planOf(acc.id)).toEqual({ plan: "business", pending_plan: "pro" });

    expect((await object.wake(acc.id, at)).planChanged).toBe(true);
    expect(await planOf(acc.id)).toEqual({ plan: "pro", pending_plan: null });
    // A repeated wake-up changes nothing more.
    expect((await object.wake(acc.id, at)).planChanged).toBe(false);
    expect(await planOf(acc.id)).toEqual({ plan: "pro", pending_plan: null });
  });
});

/** A queue that notes what is sent and delivers nothing. */
function heldQueue() {
  const sent: JobMessage[] = [];
  const queue = {
    send: async (message: JobMessage) => {
      sent.push(message);
    },
    sendBatch: async (messages: { body: JobMessage }[]) => {
      sent.push(...messages.map((m) => m.body));
    },
  } as unknown as Queue;
  /** Takes the messages sent so far. */
  const take = () => sent.splice(0, sent.length);
  return { queue, take };
}

/** An account on a clock the test moves, whose object's jobs are held for the test to see. */
async function heldAccount(clock: ManualClock, plan: "business" | "pro" | "starter") {
  const api = appWith({ clock });
  const acc = await newAccount(plan, api);
  const held = heldQueue();
  await objectQueues(acc.id, { JOBS: held.queue });
  const site = await createWebsite(acc, "https://example.com/", undefined, api);
  /** The account's timers (its alarm's work) at the clock's time. */
  const wake = () => accountObject(acc.id).wake(acc.id, clock.now());
  return { api, acc, held, site, wake };
}

// The cron's work (schedules, the stale-job sweep, retention) runs from each account's own
// alarm: the time it is woken at, not the wall clock, decides what is due, lost or expired
// (each test in its own far-future stretch, where no real alarm fires).
describe("the account's timers read the time they are woken at", () => {
  it("fire a schedule once its time has come", async () => {
    const clock = new ManualClock(Date.parse("2045-03-03T10:00:00Z"));
    const { api, acc, held, site, wake } = await heldAccount(clock, "business");
    const created = await api(
      "/v1/schedules",
      jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, acc.auth),
    );
    expect(created.status).toBe(201);
    const schedule = await body<{ id: string; next_run_at: string }>(created);
    expect(schedule.next_run_at).toBe("2045-03-03T11:00:00.000Z");
    const shots = () =>
      accountSql<{ id: string; source: string }>(
        acc.id,
        "SELECT id, source FROM screenshots WHERE schedule_id = ?",
        schedule.id,
      );

    clock.set(Date.parse(schedule.next_run_at) - MINUTE);
    expect((await wake()).dispatch).toEqual({ fired: 0, skipped: 0, paused: 0 });
    expect(held.take()).toEqual([]);
    expect(await shots()).toEqual([]);

    clock.set(schedule.next_run_at);
    expect((await wake()).dispatch).toEqual({ fired: 1, skipped: 0, paused: 0 });
    const fired = await shots();
    expect(fired).toEqual([{ id: expect.any(String), source: "schedule" }]);
    expect(held.take()).toEqual([{ type: "capture", screenshot_id: fired[0]?.id, account_id: acc.id }]);
    const row = await accountSql(acc.id, "SELECT last_run_at, next_run_at FROM schedules WHERE id = ?", schedule.id);
    expect(row).toEqual([{ last_run_at: clock.now(), next_run_at: clock.now() + HOUR }]);

    // Woken again at the same time (a repeated alarm), it does not fire twice.
    expect((await wake()).dispatch).toEqual({ fired: 0, skipped: 0, paused: 0 });
    expect(held.take()).toEqual([]);
    expect(await shots()).toHaveLength(1);
  });

  it("fire a schedule due when a downgrade takes effect, within the new plan's quota", async () => {
    const clock = new ManualClock(Date.parse("2046-03-03T10:00:00Z"));
    const { api, acc, held, site, wake } = await heldAccount(clock, "business");
    const created = await api(
      "/v1/schedules",
      jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, acc.auth),
    );
    expect(created.status).toBe(201);
    const schedule = await body<{ id: string }>(created);
    // Down to pro at the end of the period, and renewed: the subscription goes on past it.
    expect((await api("/account/plan", jsonInit("PUT", { plan: "pro" }, { cookie: acc.cookie }))).status).toBe(200);
    expect((await api("/account/renew", { method: "POST", headers: { cookie: acc.cookie } })).status).toBe(200);
    const at = (
      await env.DB.prepare("SELECT pending_plan_at FROM accounts WHERE id = ?")
        .bind(acc.id)
        .first<{ pending_plan_at: number }>()
    )?.pending_plan_at as number;
    // The schedule's slot is the moment the downgrade takes effect (hourly is fine on pro).
    await accountSql(acc.id, "UPDATE schedules SET next_run_at = ? WHERE id = ?", at, schedule.id);

    clock.set(at);
    const woken = await wake();
    expect(woken.planChanged).toBe(true);
    expect(woken.dispatch).toEqual({ fired: 1, skipped: 0, paused: 0 });
    expect(await planOf(acc.id)).toEqual({ plan: "pro", pending_plan: null });
    const [row] = await accountSql(acc.id, "SELECT last_status FROM schedules WHERE id = ?", schedule.id);
    expect(row).toEqual({ last_status: "queued" });
    const fired = await accountSql<{ id: string }>(
      acc.id,
      "SELECT id FROM screenshots WHERE schedule_id = ?",
      schedule.id,
    );
    expect(held.take()).toEqual([{ type: "capture", screenshot_id: fired[0]?.id, account_id: acc.id }]);
  });

  it("send a queued capture's job again once it has been quiet for LOST_MESSAGE", async () => {
    const clock = new ManualClock(Date.parse("2045-06-01T10:00:00Z"));
    const { api, acc, held, site, wake } = await heldAccount(clock, "pro");
    const res = await api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth));
    expect(res.status).toBe(202);
    const shot = await body<{ id: string }>(res);
    const job = { type: "capture", screenshot_id: shot.id, account_id: acc.id };
    expect(held.take()).toEqual([job]); // the request's own message, lost
    const start = clock.now();

    clock.set(start + LOST_MESSAGE - MINUTE);
    expect((await wake()).swept).toEqual({ requeued: 0, ended: 0 });
    expect(held.take()).toEqual([]);
    clock.set(start + LOST_MESSAGE + MINUTE);
    expect((await wake()).swept).toEqual({ requeued: 1, ended: 0 });
    expect(held.take()).toEqual([job]);
  });

  it("retention deletes what is past the account's history window at the time it is woken", async () => {
    const clock = new ManualClock(Date.parse("2045-09-01T10:00:00Z"));
    const { acc, site, wake } = await heldAccount(clock, "starter"); // 30 days of history
    const seed = async (createdAt: number) => {
      const id = `shot_${crypto.randomUUID().replace(/-/g, "").slice(0, 26)}`;
      const key = `acc/${acc.id}/web/${site.id}/shot/${id}.1.png`;
      await env.SHOTS.put(key, "png");
      await accountSql(
        acc.id,
        `INSERT INTO screenshots (id, website_id, source, status, url, options, attempts, r2_key, format, created_at, updated_at)
         VALUES (?, ?, 'api', 'completed', 'https://example.com/', '{}', 1, ?, 'png', ?, ?)`,
        id,
        site.id,
        key,
        createdAt,
        createdAt,
      );
      return { id, key };
    };
    const old = await seed(clock.now() - 31 * DAY);
    const young = await seed(clock.now() - 29 * DAY);
    const exists = async (s: { id: string; key: string }) => [
      (await accountSql(acc.id, "SELECT id FROM screenshots WHERE id = ?", s.id)).length > 0,
      (await env.SHOTS.head(s.key)) !== null,
    ];

    expect((await wake()).purged).toEqual({ screenshots: 1, runs: 0 });
    expect(await exists(old)).toEqual([false, false]);
    expect(await exists(young)).toEqual([true, true]);
    clock.advance(2 * DAY);
    expect((await wake()).purged).toEqual({ screenshots: 1, runs: 0 });
    expect(await exists(young)).toEqual([false, false]);
  });
});
