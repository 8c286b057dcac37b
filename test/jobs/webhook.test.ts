import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliverWebhook } from "../../src/jobs/webhook";
import { DAY, HOUR, iso, ManualClock, MINUTE } from "../../src/lib/clock";
import { WEBHOOK_MAX_BODY_BYTES } from "../../src/lib/values";
import type { JobOf } from "../../src/queue/messages";
import { FAILING_REASON, GONE_REASON } from "../../src/services/deliveries";
import { CAPTURE_INTERRUPTED, MAX_ATTEMPTS } from "../../src/services/sweep";
import { eventBody } from "../../src/services/webhooks";
import { objectQueues } from "../account-queues";
import { accountObject, accountSql, appWith, body, expectError, INTERNAL, jsonInit, newAccount } from "../helpers";
import { consume, heldQueue, received, receiver, verify } from "../webhook-receiver";

interface Hook {
  id: string;
  secret: string;
  enabled: boolean;
  disabled_reason: string | null;
}
interface Delivery {
  id: string;
  event_id: string;
  type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
}

/**
 * An account whose API runs on a clock the test moves, with the webhook messages its object
 * sends (deliveries and their retries) held for the test to deliver.
 */
async function setup(plan: "pro" | "starter" = "pro") {
  const clock = new ManualClock(Date.now());
  const held = heldQueue();
  const api = appWith({ clock });
  const acc = await newAccount(plan, api);
  await objectQueues(acc.id, { WEBHOOKS: held.queue });
  const create = async (url: string) => {
    const res = await api("/v1/webhooks", jsonInit("POST", { url }, acc.auth));
    expect(res.status, await res.clone().text()).toBe(201);
    return body<Hook>(res);
  };
  /** A webhook.test to `hook`, and the one message it queued. */
  const testEvent = async (hook: { id: string }) => {
    const res = await api(`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: acc.auth });
    expect(res.status, await res.clone().text()).toBe(202);
    const delivery = await body<Delivery>(res);
    const sent = held.take();
    expect(sent).toEqual([
      { body: { type: "webhook", delivery_id: delivery.id, account_id: acc.id, attempt: 1 }, delaySeconds: undefined },
    ]);
    return { delivery, message: (sent[0] as (typeof sent)[number]).body };
  };
  const delivery = async (hook: { id: string }, id: string) =>
    body<Delivery>(await api(`/v1/webhooks/${hook.id}/deliveries/${id}`, { headers: acc.auth }));
  const webhook = async (hook: { id: string }) =>
    body<Hook>(await api(`/v1/webhooks/${hook.id}`, { headers: acc.auth }));
  return { clock, held, api, acc, create, testEvent, delivery, webhook };
}

describe("delivery attempts", () => {
  it("retries a 500 with the same webhook-id after 5 s; a redelivered queue message sends nothing twice", async () => {
    const { clock, held, create, testEvent, delivery } = await setup();
    const r = receiver({ codes: [500, 200] });
    const hook = await create(r.url);
    const { delivery: queued, message } = await testEvent(hook);
    const firstAt = clock.now();

    await consume(clock, held.queue, message);
    expect(await r.received()).toHaveLength(1);
    const [retry] = held.take();
    expect(retry).toEqual({ body: { ...message, attempt: 2 }, delaySeconds: 5 });
    expect(await delivery(hook, queued.id)).toMatchObject({
      status: "pending",
      attempts: 1,
      last_status_code: 500,
      last_error: "The endpoint answered 500",
      next_attempt_at: iso(firstAt + 5_000),
    });

    clock.advance(5_000);
    await consume(clock, held.queue, retry?.body as JobOf<"webhook">);
    const [first, second] = await r.received();
    if (!first || !second) throw new Error("two attempts expected");
    expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(second.headers["webhook-id"]).toBe(queued.event_id);
    expect(second.body).toBe(first.body);
    expect(verify(hook.secret, first, firstAt)).toMatchObject({ type: "webhook.test", data: { id: hook.id } });
    expect(verify(hook.secret, second, clock.now())).toMatchObject({ type: "webhook.test" });
    expect(second.headers["webhook-timestamp"]).toBe(String(Math.floor(clock.now() / 1000)));
    expect(await delivery(hook, queued.id)).toMatchObject({
      status: "delivered",
      attempts: 2,
      last_status_code: 200,
      last_error: null,
      next_attempt_at: null,
    });

    // Queues deliver at least once: the same messages again make no request and queue nothing.
    await consume(clock, held.queue, message, retry?.body as JobOf<"webhook">);
    expect(await r.received()).toHaveLength(2);
    expect(held.take()).toEqual([]);
  });

  it("follows the schedule 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then fails the delivery", async () => {
    const { clock, held, create, testEvent, delivery } = await setup();
    const r = receiver({ codes: [500] });
    const hook = await create(r.url);
    const { delivery: queued, message } = await testEvent(hook);
    const delays: (number | undefined)[] = [];
    let next: JobOf<"webhook"> | undefined = message as JobOf<"webhook">;
    while (next) {
      await consume(clock, held.queue, next);
      const sent = held.take();
      expect(sent.length).toBeLessThanOrEqual(1);
      next = sent[0]?.body as JobOf<"webhook"> | undefined;
      if (sent[0]) {
        delays.push(sent[0].delaySeconds);
        clock.advance((sent[0].delaySeconds ?? 0) * 1000);
      }
    }
    expect(delays).toEqual([5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600]);
    expect(await r.received()).toHaveLength(7);
    expect(await delivery(hook, queued.id)).toMatchObject({ status: "failed", attempts: 7, next_attempt_at: null });
  });

  it("honours a Retry-After longer than the scheduled delay, up to 10 h", async () => {
    const { clock, held, create, testEvent } = await setup();
    const firstDelay = async (codes: number[], retryAfter: string) => {
      const { message } = await testEvent(await create(receiver({ codes, retryAfter }).url));
      await consume(clock, held.queue, message);
      return held.take()[0]?.delaySeconds;
    };
    expect(await firstDelay([503], "120")).toBe(120);
    expect(await firstDelay([429], "86400")).toBe(10 * 3600);
    expect(await firstDelay([503], new Date(clock.now() + 90_000).toUTCString())).toBe(90);
  });

  it("410 disables the endpoint: the delivery fails, nothing is retried and nothing more is sent", async () => {
    const { clock, held, api, acc, create, testEvent, delivery, webhook } = await setup();
    const r = receiver({ codes: [410] });
    const hook = await create(r.url);
    const { delivery: queued, message } = await testEvent(hook);
    await consume(clock, held.queue, message);
    expect(held.take()).toEqual([]);
    expect(await delivery(hook, queued.id)).toMatchObject({ status: "failed", attempts: 1, last_status_code: 410 });
    expect(await webhook(hook)).toMatchObject({ enabled: false, disabled_reason: GONE_REASON });
    await expectError(
      await api(`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: acc.auth }),
      409,
      "conflict",
    );
    // Enabling it again clears the reason.
    const res = await api(`/v1/webhooks/${hook.id}`, jsonInit("PATCH", { enabled: true }, acc.auth));
    expect(await body(res)).toMatchObject({ enabled: true, disabled_reason: null });
  });

  it("does not follow a redirect: a 3xx is a failed attempt", async () => {
    const { clock, held, create, testEvent, delivery } = await setup();
    const r = receiver({ codes: [302] });
    const hook = await create(r.url);
    const { delivery: queued, message } = await testEvent(hook);
    await consume(clock, held.queue, message);
    expect(await r.received()).toHaveLength(1);
    expect(await received(`${r.t}-followed`)).toEqual([]);
    const row = await delivery(hook, queued.id);
    expect(row).toMatchObject({ status: "pending", attempts: 1, last_status_code: 302 });
    expect(row.last_error).toMatch(/^Redirects are not followed \(302/);
    expect(held.take()).toHaveLength(1);
  });

  it("ends an attempt that gets no answer in time as a failure (timeout shortened for the test)", async () => {
    const { clock, held, create, testEvent, delivery } = await setup();
    const r = receiver({ delayMs: 1_500 });
    const hook = await create(r.url);
    const { delivery: queued, message } = await testEvent(hook);
    await deliverWebhook(env, message as JobOf<"webhook">, () => clock.now(), { timeoutMs: 200 });
    expect(await delivery(hook, queued.id)).toMatchObject({
      status: "pending",
      last_status_code: null,
      last_error: "No answer within 0.2 s",
    });
    expect(held.take()).toHaveLength(1);
  });

  it("checks the URL again at every send: an endpoint now pointing inside is refused, nothing is sent", async () => {
    const { clock, held, acc, create, testEvent, delivery } = await setup();
    const r = receiver();
    const hook = await create(r.url);
    const { delivery: queued, message } = await testEvent(hook);
    // As if the rules or the name's DNS changed after the URL was stored.
    const inside = r.url.replace(env.FIXTURE_ORIGIN, INTERNAL());
    await accountSql(acc.id, "UPDATE webhooks SET url = ? WHERE id = ?", inside, hook.id);
    await consume(clock, held.queue, message);
    expect(await r.received()).toEqual([]); // the 127.0.0.2 server shares the log: it got nothing either
    const row = await delivery(hook, queued.id);
    expect(row.last_error).toMatch(/^Blocked .*private or reserved address/);
  });

  it("disables an endpoint whose every attempt failed for 5 days", async () => {
    const { clock, held, create, testEvent, delivery, webhook } = await setup();
    const hook = await create(receiver({ codes: [500] }).url);
    await consume(clock, held.queue, (await testEvent(hook)).message);
    held.take();
    clock.advance(5 * DAY - HOUR);
    await consume(clock, held.queue, (await testEvent(hook)).message);
    expect(held.take()).toHaveLength(1); // still retrying: not 5 days yet
    expect((await webhook(hook)).enabled).toBe(true);
    clock.advance(HOUR);
    const last = await testEvent(hook);
    await consume(clock, held.queue, last.message);
    expect(held.take()).toEqual([]);
    expect(await delivery(hook, last.delivery.id)).toMatchObject({ status: "failed" });
    expect(await webhook(hook)).toMatchObject({ enabled: false, disabled_reason: FAILING_REASON });
  });
});

describe("events from the crash sweeper", () => {
  it("a capture it ends as interrupted is reported as screenshot.failed", async () => {
    const { clock, held, api, acc, create } = await setup();
    const r = receiver();
    const hook = await create(r.url);
    const site = await body<{ id: string }>(
      await api("/v1/websites", jsonInit("POST", { name: "Swept", url: "https://public.test/" }, acc.auth)),
    );
    const id = `shot_${crypto.randomUUID().replace(/-/g, "").slice(0, 26)}`;
    const claimed = clock.now() - 10 * MINUTE;
    await accountSql(
      acc.id,
      `INSERT INTO screenshots (id, website_id, source, status, url, options, attempts, started_at, created_at, updated_at)
       VALUES (?, ?, 'api', 'processing', 'https://public.test/', '{}', ?, ?, ?, ?)`,
      id,
      site.id,
      MAX_ATTEMPTS,
      claimed,
      claimed,
      claimed,
    );
    // The account's timers at the test's time: the sweep finds the claim gone stale with no attempt left.
    const woken = await accountObject(acc.id).wake(acc.id, clock.now());
    expect(woken.swept).toEqual({ requeued: 0, ended: 1 });
    const sent = held.take();
    expect(sent).toHaveLength(1);
    await consume(clock, held.queue, ...sent.map((m) => m.body));
    const [req] = await r.received();
    if (!req) throw new Error("no request");
    expect(verify(hook.secret, req, clock.now())).toMatchObject({
      type: "screenshot.failed",
      data: { id, status: "failed", error: CAPTURE_INTERRUPTED },
    });
  });
});

describe("secrets", () => {
  it("after a rotation both secrets sign for 24 h, then only the new one", async () => {
    const { clock, held, api, acc, create, testEvent } = await setup();
    const r = receiver();
    const hook = await create(r.url);
    const res = await api(`/v1/webhooks/${hook.id}/rotate-secret`, { method: "POST", headers: acc.auth });
    expect(res.status).toBe(200);
    const rotated = await body<Hook>(res);
    expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.secret).not.toBe(hook.secret);

    await consume(clock, held.queue, (await testEvent(hook)).message);
    const [both] = await r.received();
    if (!both) throw new Error("no request");
    expect(both.headers["webhook-signature"]).toMatch(/^v1,\S+ v1,\S+$/);
    verify(hook.secret, both, clock.now());
    verify(rotated.secret, both, clock.now());

    clock.advance(DAY + 1_000);
    await consume(clock, held.queue, (await testEvent(hook)).message);
    const [, after] = await r.received();
    if (!after) throw new Error("no second request");
    expect(after.headers["webhook-signature"]).toMatch(/^v1,\S+$/);
    verify(rotated.secret, after, clock.now());
    expect(() => verify(hook.secret, after, clock.now())).toThrow(/No matching signature/);
  });
});

describe("deliveries log", () => {
  it("is kept for the account's history window", async () => {
    const { clock, api, acc, create, testEvent } = await setup("starter"); // 30 days
    const hook = await create(receiver().url);
    const { delivery } = await testEvent(hook);
    const list = async () =>
      body<{ data: Delivery[] }>(await api(`/v1/webhooks/${hook.id}/deliveries`, { headers: acc.auth }));
    expect((await list()).data.map((d) => d.id)).toEqual([delivery.id]);
    // Read from the account's database: a month on, the subscription has lapsed and the API would answer 403.
    const kept = async () =>
      (
        await accountSql<{ n: number }>(
          acc.id,
          "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?",
          hook.id,
        )
      )[0]?.n;
    // Retention runs from the account's timers, woken here at the test's time.
    const wake = () => accountObject(acc.id).wake(acc.id, clock.now());
    clock.advance(29 * DAY);
    await wake();
    expect(await kept()).toBe(1);
    clock.advance(2 * DAY);
    await wake();
    expect(await kept()).toBe(0);
  });
});

describe("event bodies", () => {
  it("stay within 20 KB: long strings are cut, and the body says it was truncated", () => {
    const now = Date.now();
    const small = JSON.parse(eventBody("run.finished", { id: "run_1", status: "passed", steps: [] }, now));
    expect(small).toEqual({
      type: "run.finished",
      timestamp: iso(now),
      data: { id: "run_1", status: "passed", steps: [] },
    });
    const steps = Array.from({ length: 50 }, (_, index) => ({ index, error: "x".repeat(2_000) }));
    const cut = eventBody("run.finished", { id: "run_1", status: "failed", steps }, now);
    expect(new TextEncoder().encode(cut).byteLength).toBeLessThanOrEqual(WEBHOOK_MAX_BODY_BYTES);
    const parsed = JSON.parse(cut);
    expect(parsed).toMatchObject({ truncated: true, data: { id: "run_1", status: "failed" } });
    expect(parsed.data.steps).toHaveLength(50);
    const huge = Array.from({ length: 500 }, (_, index) => ({ index, error: "y".repeat(300) }));
    const scalars = JSON.parse(eventBody("run.finished", { id: "run_1", status: "failed", steps: huge }, now));
    expect(scalars).toMatchObject({ truncated: true, data: { id: "run_1", status: "failed" } });
    expect(scalars.data.steps).toBeUndefined();
  });
});
