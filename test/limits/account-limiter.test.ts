import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountStub } from "../../src/context";
import { hashApiToken } from "../../src/lib/api-token";
import { ManualClock } from "../../src/lib/clock";
import { accountObject, appWith, body, expectError, inAccount, newAccount } from "../helpers";

const at = (iso: string) => new ManualClock(Date.parse(iso));

describe("per-minute rate limit (the account's object, fixed UTC minute)", () => {
  it("is exact under concurrency: 50 parallel requests on a 20/min plan, exactly 20 succeed", async () => {
    const api = appWith({ clock: at("2032-05-05T10:20:30Z") });
    const acc = await newAccount("pro", api);
    const responses = await Promise.all(Array.from({ length: 50 }, () => api("/v1/account", { headers: acc.auth })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    const remaining = responses
      .filter((r) => r.status === 200)
      .map((r) => Number(r.headers.get("x-ratelimit-remaining")));
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("sends the X-RateLimit and IETF RateLimit fields on every counted response", async () => {
    const api = appWith({ clock: at("2032-05-05T10:20:45Z") });
    const acc = await newAccount("starter", api);
    const ok = await api("/v1/account", { headers: acc.auth });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-limit")).toBe("5");
    expect(ok.headers.get("x-ratelimit-remaining")).toBe("4");
    expect(ok.headers.get("x-ratelimit-reset")).toBe(String(Date.parse("2032-05-05T10:21:00Z") / 1000));
    expect(ok.headers.get("ratelimit-policy")).toBe('"minute";q=5;w=60');
    expect(ok.headers.get("ratelimit")).toBe('"minute";r=4;t=15');
    // Errors after the gate are counted too and carry the fields.
    const missing = await api("/v1/nothing-here", { headers: acc.auth });
    await expectError(missing, 404, "not_found");
    expect(missing.headers.get("x-ratelimit-remaining")).toBe("3");
  });

  it("answers 429 with Retry-After and limit, remaining, reset_at, retry_after", async () => {
    const api = appWith({ clock: at("2032-05-05T10:20:45.300Z") });
    const acc = await newAccount("starter", api);
    for (let i = 0; i < 5; i++) expect((await api("/v1/account", { headers: acc.auth })).status).toBe(200);
    const res = await api("/v1/account", { headers: acc.auth });
    const err = await expectError(res, 429, "rate_limited");
    expect(err).toMatchObject({ limit: 5, remaining: 0, reset_at: "2032-05-05T10:21:00.000Z", retry_after: 15 });
    expect(res.headers.get("retry-after")).toBe("15");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(res.headers.get("ratelimit")).toBe('"minute";r=0;t=15');
  });

  it("resets at :00 of the next minute (injected clock, no sleeping)", async () => {
    const clock = at("2032-05-05T10:20:59.900Z");
    const api = appWith({ clock });
    const acc = await newAccount("starter", api);
    for (let i = 0; i < 5; i++) await api("/v1/account", { headers: acc.auth });
    const err = await expectError(await api("/v1/account", { headers: acc.auth }), 429, "rate_limited");
    expect(err.retry_after).toBe(1); // never 0
    clock.set("2032-05-05T10:21:00.000Z");
    const res = await api("/v1/account", { headers: acc.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-remaining")).toBe("4");
  });

  it("keeps the window when the token is regenerated", async () => {
    const api = appWith({ clock: at("2032-05-05T10:30:10Z") });
    const acc = await newAccount("starter", api);
    for (let i = 0; i < 5; i++) await api("/v1/account", { headers: acc.auth });
    const regen = await api("/account/api-token", { method: "POST", headers: { cookie: acc.cookie } });
    const { token } = await body<{ token: string }>(regen);
    await expectError(await api("/v1/account", { headers: { authorization: `Bearer ${token}` } }), 429, "rate_limited");
  });

  it("counts each account separately", async () => {
    const api = appWith({ clock: at("2032-05-05T10:40:10Z") });
    const a = await newAccount("starter", api);
    const b = await newAccount("starter", api);
    for (let i = 0; i < 5; i++) await api("/v1/account", { headers: a.auth });
    await expectError(await api("/v1/account", { headers: a.auth }), 429, "rate_limited");
    expect((await api("/v1/account", { headers: b.auth })).status).toBe(200);
  });

  it("answers 503 with Retry-After when the account's object fails — never 500, never allow-all", async () => {
    const acc = await newAccount("pro");
    const outage = () => Promise.reject(new Error("Durable Object reset because its code was updated."));
    const failing = { serve: outage, usage: outage, refresh: outage } as unknown as AccountStub;
    const api = appWith({ account: () => failing });
    const res = await api("/v1/account", { headers: acc.auth });
    await expectError(res, 503, "service_unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("stays exact when the object is evicted after every request: remaining 19 … 0, then 429", async () => {
    const clock = at("2032-05-05T11:00:05Z");
    const api = appWith({ clock });
    const acc = await newAccount("pro", api); // 20/min
    const stub = accountObject(acc.id);
    const remaining: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await api("/v1/account", { headers: acc.auth });
      expect(res.status).toBe(200);
      remaining.push(Number(res.headers.get("x-ratelimit-remaining")));
      await evictDurableObject(stub);
    }
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
    // The 21st in the minute is refused, also by a fresh instance, and refusals count nothing.
    for (let i = 0; i < 2; i++) {
      const err = await expectError(await api("/v1/account", { headers: acc.auth }), 429, "rate_limited");
      expect(err).toMatchObject({ limit: 20, remaining: 0 });
      await evictDurableObject(stub);
    }
    const count = await inAccount(acc.id, (_db, _object, state) =>
      state.storage.kv.get<{ requests: number }>("counters"),
    );
    expect(count?.requests).toBe(20);
    clock.set("2032-05-05T11:01:00Z");
    const next = await api("/v1/account", { headers: acc.auth });
    expect(next.status).toBe(200);
    expect(next.headers.get("x-ratelimit-remaining")).toBe("19");
  });

  it("a business client polling every 10 s with the object evicted in between sees 59, 58 … 54", async () => {
    const clock = at("2032-05-05T11:10:00Z");
    const api = appWith({ clock });
    const acc = await newAccount("business", api); // 60/min
    const stub = accountObject(acc.id);
    const remaining: number[] = [];
    for (let i = 0; i < 6; i++) {
      clock.set(Date.parse("2032-05-05T11:10:00Z") + i * 10_000);
      const res = await api("/v1/account", { headers: acc.auth });
      expect(res.status).toBe(200);
      remaining.push(Number(res.headers.get("x-ratelimit-remaining")));
      await evictDurableObject(stub);
    }
    expect(remaining).toEqual([59, 58, 57, 56, 55, 54]);
  });

  it("keeps storage equal to the real count: a fresh instance answers exactly where the last one stopped", async () => {
    const api = appWith({ clock: at("2032-05-05T11:20:10Z") });
    const acc = await newAccount("starter", api); // 5/min
    const stub = accountObject(acc.id);
    const tokenHash = await hashApiToken(acc.token);
    const now = Date.parse("2032-05-05T11:20:30Z");
    for (let i = 1; i <= 5; i++) {
      const result = await inAccount(acc.id, async (_db, object, state) => {
        const gate = object.gate(await object.snapshot(), tokenHash, now);
        return { gate, stored: state.storage.kv.get<{ requests: number }>("counters")?.requests };
      });
      expect(result.gate).toMatchObject({ outcome: "ok", rate: { allowed: true, limit: 5, remaining: 5 - i } });
      expect(result.stored).toBe(i);
      await evictDurableObject(stub);
    }
    const refused = await inAccount(acc.id, async (_db, object) =>
      object.gate(await object.snapshot(), tokenHash, now),
    );
    expect(refused).toMatchObject({ outcome: "rate_limited", rate: { allowed: false, remaining: 0 } });
  });

  it("resumes from a lease mark left in storage by the earlier scheme, for that minute only", async () => {
    const api = appWith({ clock: at("2032-05-05T11:30:10Z") });
    const acc = await newAccount("pro", api); // 20/min
    const stub = accountObject(acc.id);
    const tokenHash = await hashApiToken(acc.token);
    const now = Date.parse("2032-05-05T11:30:20Z");
    const window = Math.floor(now / 60_000);
    await inAccount(acc.id, (_db, _object, state) => {
      const legacy = { window, requests: 2, reserved: 5, day: -1, dayCaptures: 0, month: -1, monthCaptures: 0 };
      state.storage.kv.put("counters", legacy);
    });
    await evictDurableObject(stub);
    const gate = await inAccount(acc.id, async (_db, object, state) => ({
      g: object.gate(await object.snapshot(), tokenHash, now),
      stored: state.storage.kv.get<Record<string, number>>("counters"),
    }));
    expect(gate.g).toMatchObject({ outcome: "ok", rate: { remaining: 14 } });
    expect(gate.stored).toMatchObject({ requests: 6 });
    expect(gate.stored).not.toHaveProperty("reserved");
    // The next minute starts from nothing.
    const later = await inAccount(acc.id, async (_db, object) =>
      object.gate(await object.snapshot(), tokenHash, (window + 1) * 60_000),
    );
    expect(later).toMatchObject({ outcome: "ok", rate: { remaining: 19 } });
  });
});
