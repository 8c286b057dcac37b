import { describe, expect, it } from "vitest";
import { ManualClock, MINUTE } from "../../src/lib/clock";
import { appWith, call, createWebsite, expectError, jsonInit, newAccount, uniqueEmail } from "../helpers";

// Odd bodies and queries a client might send: every answer is the envelope with a 4xx, never a 500.
describe("junk input never reaches a 500", () => {
  it("on every body-taking /v1 route and on list queries", async () => {
    const clock = new ManualClock(Date.parse("2045-01-01T00:00:00Z"));
    const api = appWith({ clock });
    let sent = 0;
    // A fresh rate-limit minute every 40 requests: this test is about validation.
    const call = (path: string, init?: RequestInit) => {
      if (++sent % 40 === 0) clock.advance(MINUTE);
      return api(path, init);
    };
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const bodies: unknown[] = [
      null,
      [],
      "x",
      1,
      {},
      { a: { b: [1, { c: null }] } },
      { website_id: null },
      { website_id: site.id, capture: null },
      { website_id: site.id, capture: [] },
      { website_id: site.id, capture: { viewport: null } },
      { website_id: site.id, capture: { headers: { "": "x" } } },
      { website_id: site.id, capture: { cookies: [{}] } },
      { website_id: site.id, cron: "L * * * *" },
      { website_id: site.id, cron: "* * * * * * *" },
      { website_id: site.id, interval_minutes: 1e20 },
      { website_id: site.id, interval_minutes: 1.5 },
      { website_id: site.id, name: "x", steps: [null] },
      { website_id: site.id, name: "x", steps: [{ action: null }] },
      { website_id: site.id, name: "x", steps: "abc" },
      { ids: [null] },
      { ids: [1, 2] },
      { website_id: site.id, since: "2020-13-45T00:00:00Z" },
    ];
    const routes = [
      ["POST", "/v1/websites"],
      ["POST", "/v1/screenshots"],
      ["POST", "/v1/schedules"],
      ["POST", "/v1/scenarios"],
      ["POST", "/v1/screenshots/download-bulk"],
      ["PATCH", `/v1/websites/${site.id}`],
    ] as const;
    const failures: string[] = [];
    for (const [method, path] of routes) {
      for (const payload of bodies) {
        const res = await call(path, jsonInit(method, payload, acc.auth));
        if (res.status >= 500 || res.status === 429)
          failures.push(`${res.status} ${method} ${path} ${JSON.stringify(payload)}`);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      }
    }
    for (const query of ["?limit=-1", "?cursor=%00", "?since=x&until=y", "?website_id=' OR 1=1 --", "?limit=1e3"]) {
      const res = await call(`/v1/screenshots${query}`, { headers: acc.auth });
      if (res.status >= 500) failures.push(`${res.status} GET /v1/screenshots${query}`);
    }
    expect(failures).toEqual([]);
  });
});

describe("an oversized streamed body", () => {
  /** A chunked body (no Content-Length) of `chunks` × 64 KiB that records how far it was read. */
  function streamedBody(chunks: number) {
    const seen = { pulled: 0, cancelled: false };
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (seen.pulled === chunks) return controller.close();
        seen.pulled += 1;
        controller.enqueue(chunk);
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    return { stream, seen };
  }

  it("answers 413, reads the rest of the body to its end, and the next request is served", async () => {
    for (let round = 0; round < 3; round++) {
      const { stream, seen } = streamedBody(25); // 1.6 MB
      const res = await call("/auth/signup", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
      });
      expect(res.headers.get("content-length")).not.toBe(String(25 * 64 * 1024));
      await expectError(res, 413, "payload_too_large");
      // Drained, not abandoned mid-stream: an abandoned body broke the next request.
      expect(seen).toEqual({ pulled: 25, cancelled: false });
      const next = await call(
        "/auth/signup",
        jsonInit("POST", { email: uniqueEmail(), password: "long enough pw", name: "N" }),
      );
      expect(next.status).toBe(201);
    }
  });

  it("a streamed body under the limit reaches the route whole", async () => {
    const email = uniqueEmail();
    const json = new TextEncoder().encode(JSON.stringify({ email, password: "p".repeat(200), name: "x".repeat(90) }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < json.length; i += 7) controller.enqueue(json.slice(i, i + 7));
        controller.close();
      },
    });
    const res = await call("/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { email: string }).email).toBe(email);
  });
});
