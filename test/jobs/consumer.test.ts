import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { handleQueue } from "../../src/jobs/consumer";
import { PURGE_PAGE } from "../../src/jobs/purge";
import { LOST_MESSAGE } from "../../src/jobs/sweep";
import { DAY, HOUR, ManualClock, MINUTE } from "../../src/lib/clock";
import type { JobMessage } from "../../src/queue/messages";
import { appWith, body, call, createWebsite, jsonInit, newAccount } from "../helpers";

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

describe("scheduled handler", () => {
  it("applies downgrades whose period has ended on the minute tick", async () => {
    const acc = await newAccount("business");
    await call("/account/plan", jsonInit("PUT", { plan: "pro" }, { cookie: acc.cookie }));
    const row = await env.DB.prepare("SELECT pending_plan_at FROM accounts WHERE id = ?")
      .bind(acc.id)
      .first<{ pending_plan_at: number }>();
    expect(row?.pending_plan_at).toBeGreaterThan(Date.now());

    const early = createScheduledController({ cron: "* * * * *", scheduledTime: (row?.pending_plan_at ?? 0) - 60_000 });
    await worker.scheduled(early, env, createExecutionContext());
    const before = await env.DB.prepare("SELECT plan, pending_plan FROM accounts WHERE id = ?").bind(acc.id).first();
    expect(before).toEqual({ plan: "business", pending_plan: "pro" });

    const due = createScheduledController({ cron: "* * * * *", scheduledTime: row?.pending_plan_at ?? 0 });
    await worker.scheduled(due, env, createExecutionContext());
    const after = await env.DB.prepare("SELECT plan, pending_plan FROM accounts WHERE id = ?").bind(acc.id).first();
    expect(after).toEqual({ plan: "pro", pending_plan: null });
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
  return { queue, sent };
}

/** One job through the consumer at `clock`; returns the messages it sent on. */
async function consumeAt(clock: ManualClock, job: JobMessage) {
  const { queue, sent } = heldQueue();
  const batch = createMessageBatch<JobMessage>("snaptrack-jobs", [
    { id: "c1", timestamp: new Date(), attempts: 1, body: job },
  ]);
  const ctx = createExecutionContext();
  await handleQueue(batch, { ...env, JOBS: queue }, ctx, clock);
  expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["c1"], retryMessages: [] });
  return sent;
}

// Continuations of the cron's work run on the queue: the consumer's clock, not the wall
// clock, decides what is due, lost or expired (each test in its own far-future stretch).
describe("queue continuations read the consumer's clock", () => {
  it("dispatch fires a schedule once its time has come", async () => {
    const clock = new ManualClock(Date.parse("2045-03-03T10:00:00Z"));
    const api = appWith({ clock }, { JOBS: heldQueue().queue });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const created = await api(
      "/v1/schedules",
      jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, acc.auth),
    );
    expect(created.status).toBe(201);
    const schedule = await body<{ id: string; next_run_at: string }>(created);
    expect(schedule.next_run_at).toBe("2045-03-03T11:00:00.000Z");
    const shots = () =>
      env.DB.prepare("SELECT id, source FROM screenshots WHERE schedule_id = ?")
        .bind(schedule.id)
        .all<{ id: string; source: string }>();

    clock.set(Date.parse(schedule.next_run_at) - MINUTE);
    expect(await consumeAt(clock, { type: "dispatch", round: 1 })).toEqual([]);
    expect((await shots()).results).toEqual([]);

    clock.set(schedule.next_run_at);
    const sent = await consumeAt(clock, { type: "dispatch", round: 1 });
    const fired = (await shots()).results;
    expect(fired).toHaveLength(1);
    expect(sent).toEqual([{ type: "capture", screenshot_id: fired[0]?.id, account_id: acc.id }]);
    const row = await env.DB.prepare("SELECT last_run_at, next_run_at FROM schedules WHERE id = ?")
      .bind(schedule.id)
      .first();
    expect(row).toEqual({ last_run_at: clock.now(), next_run_at: clock.now() + HOUR });
    // Leave nothing queued for the sweep below.
    await env.DB.prepare("UPDATE screenshots SET status = 'failed' WHERE account_id = ?").bind(acc.id).run();
  });

  it("sweep sends a queued capture's job again once it has been quiet for LOST_MESSAGE", async () => {
    const clock = new ManualClock(Date.parse("2045-06-01T10:00:00Z"));
    const api = appWith({ clock }, { JOBS: heldQueue().queue });
    const acc = await newAccount("pro", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const res = await api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth));
    expect(res.status).toBe(202);
    const shot = await body<{ id: string }>(res);
    const start = clock.now();

    clock.set(start + LOST_MESSAGE - MINUTE);
    expect(await consumeAt(clock, { type: "sweep", round: 1 })).toEqual([]);
    clock.set(start + LOST_MESSAGE + MINUTE);
    expect(await consumeAt(clock, { type: "sweep", round: 1 })).toEqual([
      { type: "capture", screenshot_id: shot.id, account_id: acc.id },
    ]);
    await env.DB.prepare("UPDATE screenshots SET status = 'failed' WHERE account_id = ?").bind(acc.id).run();
  });

  it("retention deletes what is past the account's history window at the consumer's time", async () => {
    const clock = new ManualClock(Date.parse("2045-09-01T10:00:00Z"));
    const api = appWith({ clock }, { JOBS: heldQueue().queue });
    const acc = await newAccount("starter", api); // 30 days of history
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const seed = async (createdAt: number) => {
      const id = `shot_${crypto.randomUUID().replace(/-/g, "").slice(0, 26)}`;
      const key = `acc/${acc.id}/web/${site.id}/shot/${id}.1.png`;
      await env.SHOTS.put(key, "png");
      await env.DB.prepare(
        `INSERT INTO screenshots (id, account_id, website_id, source, status, url, options, attempts, r2_key, format, created_at, updated_at)
         VALUES (?, ?, ?, 'api', 'completed', 'https://example.com/', '{}', 1, ?, 'png', ?, ?)`,
      )
        .bind(id, acc.id, site.id, key, createdAt, createdAt)
        .run();
      return { id, key };
    };
    const old = await seed(clock.now() - 31 * DAY);
    const young = await seed(clock.now() - 29 * DAY);
    const exists = async (s: { id: string; key: string }) => [
      (await env.DB.prepare("SELECT id FROM screenshots WHERE id = ?").bind(s.id).first()) !== null,
      (await env.SHOTS.head(s.key)) !== null,
    ];

    expect(await consumeAt(clock, { type: "retention", round: 1 })).toEqual([]);
    expect(await exists(old)).toEqual([false, false]);
    expect(await exists(young)).toEqual([true, true]);
    clock.advance(2 * DAY);
    await consumeAt(clock, { type: "retention", round: 1 });
    expect(await exists(young)).toEqual([false, false]);
  });
});
