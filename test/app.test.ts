import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call } from "./helpers";

describe("the API reference at /docs", () => {
  it("is linked from / and loads its script from this Worker, not a CDN", async () => {
    const root = (await (await call("/")).json()) as { docs: string; openapi: string };
    expect(root).toMatchObject({ docs: "/docs", openapi: "/v1/openapi.json" });
    const page = await call("/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(["/docs/scalar.js", expect.stringMatching(/^\/docs\/init\.js\?v=[0-9a-f]+$/)]);
    expect(html).toContain("/v1/openapi.json");
    expect(html).not.toMatch(/https?:\/\/(?!api\.snaptrack\.test)[a-z0-9.-]+\//i);
    // A way back to SnapTrack, and a policy of its own (CSP on every HTML page).
    expect(html).toMatch(/<a class="brand" href="\/">SnapTrack<\/a>/);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    // Scalar's configuration: no font CDN, no telemetry, no AI, MCP or developer tools.
    const init = await (await exports.default.fetch(new Request(`${BASE}/docs/init.js`))).text();
    for (const setting of [
      '"withDefaultFonts":false',
      '"telemetry":false',
      '"showDeveloperTools":"never"',
      '"showToolbar":"never"',
      '"agent":{"disabled":true}',
      '"mcp":{"disabled":true}',
    ])
      expect(init).toContain(setting);
    // The script is a static asset of this Worker.
    const script = await call("/docs/scalar.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
