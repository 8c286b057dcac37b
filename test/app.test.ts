import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("the API reference at /docs", () => {
  it("is linked from / and loads its script from this Worker, not a CDN", async () => {
    const root = (await (await call("/")).json()) as { docs: string; openapi: string };
    expect(root).toMatchObject({ docs: "/docs", openapi: "/v1/openapi.json" });
    const page = await call("/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(["/docs/scalar.js"]);
    expect(html).toContain("/v1/openapi.json");
    expect(html).not.toMatch(/https?:\/\/(?!api\.snaptrack\.test)[a-z0-9.-]+\//i);
    // The script is a static asset of this Worker.
    const script = await call("/docs/scalar.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
