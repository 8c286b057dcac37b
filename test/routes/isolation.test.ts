import { describe, expect, it } from "vitest";
import { call, createWebsite, expectError, FIXTURE, jsonInit, newAccount, requestCapture, settled } from "../helpers";

describe("cross-account isolation: another account's ids are 404, never 403", () => {
  it("on every website and screenshot endpoint", async () => {
    const owner = await newAccount("business");
    const intruder = await newAccount("business");
    const site = await createWebsite(owner, `${FIXTURE()}/colors`);
    const shot = await settled(owner, (await requestCapture(owner, site.id)).id);
    const as = intruder.auth;
    const attempts: [string, RequestInit][] = [
      [`/v1/websites/${site.id}`, { headers: as }],
      [`/v1/websites/${site.id}`, jsonInit("PATCH", { name: "mine now" }, as)],
      [`/v1/websites/${site.id}`, { method: "DELETE", headers: as }],
      ["/v1/screenshots", jsonInit("POST", { website_id: site.id }, as)],
      [`/v1/screenshots/${shot.id}`, { headers: as }],
      [`/v1/screenshots/${shot.id}/download`, { headers: as }],
      [`/v1/screenshots/${shot.id}`, { method: "DELETE", headers: as }],
      ["/v1/screenshots/download-bulk", jsonInit("POST", { ids: [shot.id] }, as)],
      ["/v1/screenshots/download-bulk", jsonInit("POST", { website_id: site.id }, as)],
    ];
    for (const [path, init] of attempts) {
      const res = await call(path, init);
      const err = await expectError(res, 404, "not_found");
      expect(JSON.stringify(err), `${init.method ?? "GET"} ${path}`).not.toContain(owner.id);
    }
    const lists = [
      await call("/v1/websites", { headers: as }),
      await call(`/v1/screenshots?website_id=${site.id}`, { headers: as }),
    ];
    for (const res of lists) expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);
    // The owner still has everything.
    expect((await call(`/v1/screenshots/${shot.id}/download`, { headers: owner.auth })).status).toBe(200);
    expect((await call(`/v1/websites/${site.id}`, { headers: owner.auth })).status).toBe(200);
  });
});
