import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import type { JobMessage } from "../src/jobs/messages";
import { PURGE_PAGE } from "../src/jobs/purge";
import { call, jsonInit, newAccount } from "./helpers";

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

  it("exports fetch, queue and scheduled", () => {
    expect(typeof exports.default.fetch).toBe("function");
    expect(typeof worker.queue).toBe("function");
    expect(typeof worker.scheduled).toBe("function");
  });
});
