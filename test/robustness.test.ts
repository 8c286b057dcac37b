import { describe, expect, it } from "vitest";
import { ManualClock, MINUTE } from "../src/lib/clock";
import { appWith, createWebsite, jsonInit, newAccount } from "./helpers";

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
