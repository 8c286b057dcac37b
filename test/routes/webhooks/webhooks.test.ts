import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { PLANS } from "../../../src/limits/plans";
import { pauseTooFast } from "../../../src/services/dispatch";
import {
  accountSql,
  body,
  call,
  createScenario,
  createWebsite,
  expectError,
  FIXTURE,
  INTERNAL,
  inAccount,
  jsonInit,
  newAccount,
  requestCapture,
  runToEnd,
  settled,
  type TestAccount,
} from "../../helpers";
import { type HookBody, receivedAtLeast, receiver, verify } from "../../webhook-receiver";

interface Hook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret?: string;
}
interface Delivery {
  id: string;
  event_id: string;
  type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
}

async function createHook(acc: TestAccount, payload: Record<string, unknown>) {
  const res = await call("/v1/webhooks", jsonInit("POST", payload, acc.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return body<Hook & { secret: string }>(res);
}

/** Waits (reading the account's database) until every delivery of the endpoint has settled, then lists them. */
async function settledDeliveries(acc: TestAccount, hookId: string, n: number): Promise<Delivery[]> {
  await vi.waitFor(
    async () => {
      const [row] = await accountSql<{ n: number; pending: number }>(
        acc.id,
        "SELECT count(*) AS n, sum(status = 'pending') AS pending FROM webhook_deliveries WHERE webhook_id = ?",
        hookId,
      );
      if (row?.n !== n || row.pending !== 0) throw new Error(`${row?.n} deliveries, ${row?.pending} pending`);
    },
    { timeout: 30_000, interval: 100 },
  );
  const res = await call(`/v1/webhooks/${hookId}/deliveries`, { headers: acc.auth });
  expect(res.status).toBe(200);
  return (await body<{ data: Delivery[] }>(res)).data;
}

describe("endpoints", () => {
  it("are created with a secret shown once, read, listed, updated and deleted", async () => {
    const acc = await newAccount("business");
    const r = receiver();
    const created = await createHook(acc, { url: r.url, description: "CI" });
    expect(created).toMatchObject({
      url: r.url,
      events: ["*"],
      description: "CI",
      enabled: true,
      disabled_reason: null,
    });
    expect(created.id).toMatch(/^whk_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(created.secret.slice(6))).toHaveLength(32);

    const read = await body<Hook>(await call(`/v1/webhooks/${created.id}`, { headers: acc.auth }));
    const { secret, ...shown } = created;
    expect(read).toEqual(shown);
    expect(JSON.stringify(read)).not.toContain(secret);
    // Sealed at rest, never in clear.
    const [row] = await accountSql<{ secret: string }>(acc.id, "SELECT secret FROM webhooks WHERE id = ?", created.id);
    expect(row?.secret).toMatch(/^v1\./);
    expect(row?.secret).not.toContain(secret.slice(6));

    const list = await body<{ data: Hook[] }>(await call("/v1/webhooks", { headers: acc.auth }));
    expect(list.data.map((h) => h.id)).toEqual([created.id]);
    expect(JSON.stringify(list)).not.toContain(secret);

    const patched = await call(
      `/v1/webhooks/${created.id}`,
      jsonInit("PATCH", { events: ["screenshot.failed", "run.finished"], description: null, enabled: false }, acc.auth),
    );
    expect(await body(patched)).toMatchObject({
      events: ["screenshot.failed", "run.finished"],
      description: null,
      enabled: false,
    });
    const mixed = await call(
      `/v1/webhooks/${created.id}`,
      jsonInit("PATCH", { events: ["*", "run.finished"] }, acc.auth),
    );
    expect((await expectError(mixed, 422, "validation_failed")).errors).toHaveProperty("events");
    const unknown = await call(`/v1/webhooks/${created.id}`, jsonInit("PATCH", { events: ["page.visited"] }, acc.auth));
    expect((await expectError(unknown, 422, "validation_failed")).errors).toHaveProperty(["events.0"]);

    expect((await call(`/v1/webhooks/${created.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    await expectError(await call(`/v1/webhooks/${created.id}`, { headers: acc.auth }), 404, "not_found");
  });

  it("refuse URLs the SSRF guard refuses, and plain http to the internet (422 url)", async () => {
    const acc = await newAccount("business");
    for (const url of [
      `${INTERNAL()}/__hook`, // a private address
      "https://internal.test/hook", // a name that resolves to one
      "https://169.254.169.254/latest/meta-data",
      "http://public.test/hook", // not https
      "ftp://public.test/hook",
      "https://user:secret@public.test/hook",
    ]) {
      const res = await call("/v1/webhooks", jsonInit("POST", { url }, acc.auth));
      const err = await expectError(res, 422, "validation_failed");
      expect(Object.keys(err.errors ?? {}), url).toEqual(["url"]);
    }
    const patch = await call(
      `/v1/webhooks/${(await createHook(acc, { url: "https://public.test/hook" })).id}`,
      jsonInit("PATCH", { url: `${INTERNAL()}/__hook` }, acc.auth),
    );
    expect(Object.keys((await expectError(patch, 422, "validation_failed")).errors ?? {})).toEqual(["url"]);
  });

  it("are counted per plan: past the count is 403 plan_limit_reached", async () => {
    const acc = await newAccount("starter");
    const account = await body<{ limits: { webhook_endpoints: number } }>(
      await call("/v1/account", { headers: acc.auth }),
    );
    expect(account.limits.webhook_endpoints).toBe(PLANS.starter.webhookEndpoints);
    for (let i = 0; i < PLANS.starter.webhookEndpoints; i++) await createHook(acc, { url: "https://public.test/hook" });
    const res = await call("/v1/webhooks", jsonInit("POST", { url: "https://public.test/hook" }, acc.auth));
    await expectError(res, 403, "plan_limit_reached");
  });

  it("another account's endpoints and deliveries are 404", async () => {
    const [a, b] = await Promise.all([newAccount("business"), newAccount("business")]);
    const hook = await createHook(a, { url: receiver().url });
    const sent = await call(`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: a.auth });
    expect(sent.status).toBe(202);
    const delivery = await body<Delivery>(sent);
    const own = await createHook(b, { url: receiver().url });
    for (const [path, init] of [
      [`/v1/webhooks/${hook.id}`, {}],
      [`/v1/webhooks/${hook.id}`, jsonInit("PATCH", { description: "mine now" })],
      [`/v1/webhooks/${hook.id}`, { method: "DELETE" }],
      [`/v1/webhooks/${hook.id}/rotate-secret`, { method: "POST" }],
      [`/v1/webhooks/${hook.id}/test`, { method: "POST" }],
      [`/v1/webhooks/${hook.id}/deliveries`, {}],
      [`/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, {}],
      [`/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`, { method: "POST" }],
      // B's own endpoint with A's delivery
      [`/v1/webhooks/${own.id}/deliveries/${delivery.id}`, {}],
      [`/v1/webhooks/${own.id}/deliveries/${delivery.id}/redeliver`, { method: "POST" }],
    ] as const) {
      const headers = { ...((init as RequestInit).headers as Record<string, string>), ...b.auth };
      const res = await call(path, { ...init, headers });
      const err = await expectError(res, 404, "not_found");
      expect(JSON.stringify(err)).not.toContain(a.id);
    }
    const list = await body<{ data: Hook[] }>(await call("/v1/webhooks", { headers: b.auth }));
    expect(list.data.map((h) => h.id)).toEqual([own.id]);
    // A's endpoint is untouched.
    expect(await body(await call(`/v1/webhooks/${hook.id}`, { headers: a.auth }))).toMatchObject({
      description: null,
      enabled: true,
    });
  });
});

describe("events (real queues, a receiver on 127.0.0.1)", () => {
  it("every event arrives signed and verifies with standardwebhooks; data is the resource as the API returns it", async () => {
    const acc = await newAccount("business");
    const r = receiver();
    const hook = await createHook(acc, { url: r.url });
    const only = receiver();
    const failures = await createHook(acc, { url: only.url, events: ["screenshot.failed"] });
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const missing = await createWebsite(acc, `${FIXTURE()}/no-such-page`);
    const good = await settled(acc, (await requestCapture(acc, site.id, { delay_ms: 0 })).id);
    const bad = await settled(acc, (await requestCapture(acc, missing.id)).id);
    expect([good.status, bad.status]).toEqual(["completed", "failed"]);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "Hooked",
      steps: [{ action: "assert_visible", selector: "#box" }],
    });
    const run = await runToEnd(acc, scenario.id);
    expect(run.status).toBe("passed");
    const scheduled = await call(
      "/v1/schedules",
      jsonInit("POST", { website_id: site.id, interval_minutes: 15 }, acc.auth),
    );
    const schedule = await body<{ id: string }>(scheduled);
    // A downgrade to a plan whose fastest schedule is hourly pauses it (the plan-change path).
    await inAccount(acc.id, (db) =>
      pauseTooFast({ db, accountId: acc.id, queue: env.WEBHOOKS, plan: PLANS.starter }, PLANS.starter, Date.now()),
    );
    expect((await call(`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: acc.auth })).status).toBe(202);
    // change.detected is tested with real comparisons (test/jobs/compare.test.ts).
    const requests = await receivedAtLeast(r.t, 5);
    const events = new Map<string, HookBody>();
    for (const req of requests) {
      expect(req.method).toBe("POST");
      expect(req.headers["content-type"]).toBe("application/json");
      const event = verify(hook.secret, req);
      expect(req.headers["webhook-id"]).toMatch(/^msg_/);
      expect(Date.parse(event.timestamp)).toBeGreaterThan(0);
      expect(new TextEncoder().encode(req.body).byteLength).toBeLessThanOrEqual(20 * 1024);
      events.set(event.type, event);
    }
    expect([...events.keys()].sort()).toEqual([
      "run.finished",
      "schedule.paused",
      "screenshot.completed",
      "screenshot.failed",
      "webhook.test",
    ]);
    const api = async (path: string) => body(await call(path, { headers: acc.auth }));
    expect(events.get("screenshot.completed")?.data).toEqual(await api(`/v1/screenshots/${good.id}`));
    expect(events.get("screenshot.failed")?.data).toEqual(await api(`/v1/screenshots/${bad.id}`));
    expect(events.get("run.finished")?.data).toEqual(await api(`/v1/runs/${run.id}`));
    expect(events.get("run.finished")?.data).toMatchObject({ status: "passed" });
    expect(events.get("schedule.paused")?.data).toMatchObject({ id: schedule.id, enabled: false });
    expect(events.get("schedule.paused")?.data.paused_reason).toMatch(/^Paused: /);
    const { secret: _secret, ...shown } = hook;
    expect(events.get("webhook.test")?.data).toEqual(shown);

    const deliveries = await settledDeliveries(acc, hook.id, 5);
    expect(deliveries.map((d) => [d.status, d.attempts, d.last_status_code])).toEqual(
      Array.from({ length: 5 }, () => ["delivered", 1, 200]),
    );
    // Newest first.
    expect(deliveries.map((d) => d.id)).toEqual([...deliveries.map((d) => d.id)].sort().reverse());

    // An endpoint subscribed to one type gets only that one.
    const [first] = await settledDeliveries(acc, failures.id, 1);
    expect(first).toMatchObject({ type: "screenshot.failed", status: "delivered" });

    // Redeliver: the same event (same webhook-id and body) as a new delivery.
    const res = await call(`/v1/webhooks/${failures.id}/deliveries/${first?.id}/redeliver`, {
      method: "POST",
      headers: acc.auth,
    });
    expect(res.status).toBe(202);
    const again = await body<Delivery>(res);
    expect(again).toMatchObject({
      event_id: first?.event_id,
      type: "screenshot.failed",
      status: "pending",
      attempts: 0,
    });
    expect(again.id).not.toBe(first?.id);
    expect(res.headers.get("location")).toBe(`/v1/webhooks/${failures.id}/deliveries/${again.id}`);
    const [one, two] = await receivedAtLeast(only.t, 2);
    expect(two?.headers["webhook-id"]).toBe(one?.headers["webhook-id"]);
    expect(two?.body).toBe(one?.body);
    expect(verify(failures.secret, two as NonNullable<typeof two>).data).toMatchObject({ id: bad.id });
    expect((await settledDeliveries(acc, failures.id, 2)).map((d) => d.id)).toEqual([again.id, first?.id]);
  });
});
