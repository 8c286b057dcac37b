import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { snaptrack } from "../client";
import { BASE, FIXTURE, newAccount } from "./helpers";

describe("the typed client (client/)", () => {
  it("speaks the served API: create a website, list it, and read a typed error", async () => {
    const acc = await newAccount("pro");
    const client = snaptrack(BASE, acc.token);
    // Requests go to the Worker's entry point instead of the network.
    const fetcher = (req: Request) => exports.default.fetch(req);
    const created = await client.POST("/v1/websites", {
      body: { name: "Client", url: `${FIXTURE()}/colors` },
      fetch: fetcher,
    });
    expect(created.response.status).toBe(201);
    expect(created.data?.url).toBe(`${FIXTURE()}/colors`);
    const listed = await client.GET("/v1/websites", { params: { query: { limit: 10 } }, fetch: fetcher });
    expect(listed.data?.data.map((w) => w.id)).toEqual([created.data?.id]);
    const missing = await client.GET("/v1/websites/{id}", {
      params: { path: { id: "web_01jf8z3k6m9q2w4e6r8t0y2u4i" } },
      fetch: fetcher,
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error).toBe("not_found");
  });
});
