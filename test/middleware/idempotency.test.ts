import { describe, expect, it } from "vitest";
import { HOUR, ManualClock } from "../../src/lib/clock";
import { accountSql, appWith, body, call, createWebsite, expectError, FIXTURE, jsonInit, newAccount } from "../helpers";

/** Rows of `table` in the account's own database. */
const count = async (accountId: string, table: "screenshots" | "websites") =>
  (await accountSql<{ n: number }>(accountId, `SELECT count(*) AS n FROM ${table}`))[0]?.n;

describe("Idempotency-Key on POSTs that create or start work", () => {
  it("replays the first response for the same key and body, and starts nothing new", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const send = () =>
      call(
        "/v1/screenshots",
        jsonInit("POST", { website_id: site.id }, { ...acc.auth, "Idempotency-Key": "order-42" }),
      );
    const first = await send();
    const second = await send();
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    const a = await body<{ id: string }>(first);
    const b = await body<{ id: string }>(second);
    expect(b).toEqual(a);
    expect(await count(acc.id, "screenshots")).toBe(1);
    const usage = await body<{ usage: { captures_today: number } }>(await call("/v1/account", { headers: acc.auth }));
    expect(usage.usage.captures_today).toBe(1);
  });

  it("answers 422 for the same key with a different body", async () => {
    const acc = await newAccount("business");
    const headers = { ...acc.auth, "Idempotency-Key": "site-1" };
    expect(
      (await call("/v1/websites", jsonInit("POST", { name: "a", url: "https://a.example.com/" }, headers))).status,
    ).toBe(201);
    const err = await expectError(
      await call("/v1/websites", jsonInit("POST", { name: "b", url: "https://b.example.com/" }, headers)),
      422,
      "validation_failed",
    );
    expect(err.errors).toHaveProperty("Idempotency-Key");
    expect(await count(acc.id, "websites")).toBe(1);
  });

  it("compares JSON bodies by value: whitespace and key order do not matter", async () => {
    const acc = await newAccount("business");
    const headers = { ...acc.auth, "content-type": "application/json", "Idempotency-Key": "by-value" };
    const send = (text: string) => call("/v1/websites", { method: "POST", headers, body: text });
    const first = await send('{"name":"a","url":"https://a.example.com/","capture":{"full_page":true,"delay_ms":0}}');
    expect(first.status).toBe(201);
    const again = await send(
      '{\n  "url": "https://a.example.com/",\n  "capture": { "delay_ms": 0, "full_page": true },\n  "name": "a"\n}\n',
    );
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await body<{ id: string }>(again)).id).toBe((await body<{ id: string }>(first)).id);
    // A different value (even only nested) is a different request.
    const other = await expectError(
      await send('{"name":"a","url":"https://a.example.com/","capture":{"full_page":false,"delay_ms":0}}'),
      422,
      "validation_failed",
    );
    expect(other.errors).toHaveProperty("Idempotency-Key");
    expect(await count(acc.id, "websites")).toBe(1);
  });

  it("answers 409 while the first request with the key is still in flight", async () => {
    const acc = await newAccount("business");
    const payload = { name: "a", url: "https://a.example.com/" };
    // The first request's claim, as it stands while its handler runs.
    const { sha256Hex } = await import("../../src/lib/crypto");
    const { canonicalBody } = await import("../../src/middleware/idempotency");
    const fingerprint = await sha256Hex(`POST /v1/websites\n${canonicalBody(JSON.stringify(payload))}`);
    await accountSql(
      acc.id,
      "INSERT INTO idempotency_keys (key, fingerprint, state, created_at, expires_at) VALUES ('busy', ?, 'in_flight', ?, ?)",
      fingerprint,
      Date.now(),
      Date.now() + 24 * HOUR,
    );
    await expectError(
      await call("/v1/websites", jsonInit("POST", payload, { ...acc.auth, "Idempotency-Key": "busy" })),
      409,
      "conflict",
    );
    expect(await count(acc.id, "websites")).toBe(0);
  });

  it("scopes keys to the account and keeps them 24 hours", async () => {
    const clock = new ManualClock(Date.parse("2034-01-01T10:00:00Z"));
    const api = appWith({ clock });
    const a = await newAccount("business", api);
    const b = await newAccount("business", api);
    const payload = { name: "same", url: "https://same.example.com/" };
    const post = (acc: typeof a) =>
      api("/v1/websites", jsonInit("POST", payload, { ...acc.auth, "Idempotency-Key": "shared-key" }));
    const fromA = await body<{ id: string }>(await post(a));
    const fromB = await body<{ id: string }>(await post(b));
    expect(fromB.id).not.toBe(fromA.id);
    clock.advance(23 * HOUR);
    expect((await body<{ id: string }>(await post(a))).id).toBe(fromA.id);
    clock.advance(2 * HOUR);
    expect((await body<{ id: string }>(await post(a))).id).not.toBe(fromA.id);
  });

  it("releases the key when the request fails, so a corrected retry goes through", async () => {
    const acc = await newAccount("business");
    const headers = { ...acc.auth, "Idempotency-Key": "retry-me" };
    await expectError(
      await call("/v1/screenshots", jsonInit("POST", { website_id: "web_missing" }, headers)),
      404,
      "not_found",
    );
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    expect((await call("/v1/screenshots", jsonInit("POST", { website_id: site.id }, headers))).status).toBe(202);
  });

  it("rejects keys longer than 255 characters", async () => {
    const acc = await newAccount("business");
    const err = await expectError(
      await call(
        "/v1/websites",
        jsonInit(
          "POST",
          { name: "a", url: "https://a.example.com/" },
          { ...acc.auth, "Idempotency-Key": "k".repeat(256) },
        ),
      ),
      422,
      "validation_failed",
    );
    expect(err.errors).toHaveProperty("Idempotency-Key");
  });
});
