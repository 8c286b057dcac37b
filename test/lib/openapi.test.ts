import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import committed from "../../docs/openapi.json?raw";
import { createApp } from "../../src/app";
import { ManualClock, MINUTE } from "../../src/lib/clock";
import { appWith, BASE, call, newAccount } from "../helpers";
import { responseProblems } from "../response-check";

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<
      string,
      { responses?: Record<string, unknown>; parameters?: { name: string; in: string }[]; operationId?: string }
    >
  >;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
};

async function getDoc(): Promise<Doc> {
  const res = await call("/v1/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, out);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") out.push(value);
      else collectRefs(value, out);
    }
  }
  return out;
}

describe("GET /v1/openapi.json", () => {
  it("is the committed docs/openapi.json (linted, and the typed client's source)", async () => {
    const doc = await getDoc();
    if (env.WRITE_OPENAPI === "1") {
      const res = await fetch(`${env.FIXTURE_ORIGIN}/__write-openapi`, { method: "POST", body: JSON.stringify(doc) });
      expect(res.status).toBe(204);
      return;
    }
    expect(doc, "docs/openapi.json is stale: run `npm run openapi:write`").toEqual(JSON.parse(committed));
  });

  it("is a public OpenAPI 3.1 document with the bearer scheme", async () => {
    const doc = await getDoc();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("SnapTrack API");
    expect(doc.components?.securitySchemes).toHaveProperty("bearerAuth");
  });

  it("documents every route the app serves, each with responses", async () => {
    const doc = await getDoc();
    const served = createApp()
      // The API: /v1 and the session endpoints. The document itself, the API reference and the
      // dashboard's pages (/, /app, /login, …) are not API operations.
      .routes.filter(
        (r) => r.method !== "ALL" && r.path !== "/v1/openapi.json" && /^\/(v1|auth|account)(\/|$)/.test(r.path),
      )
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(new Set(documented)).toEqual(new Set(served));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses ?? {}), `${method} ${path}`).not.toHaveLength(0);
        for (const param of path.match(/\{[^}]+\}/g) ?? []) {
          const name = param.slice(1, -1);
          expect(
            op.parameters?.some((p) => p.in === "path" && p.name === name),
            `${method} ${path} declares ${name}`,
          ).toBe(true);
        }
      }
    }
  });

  it("resolves every $ref", async () => {
    const doc = await getDoc();
    for (const ref of collectRefs(doc)) {
      expect(ref).toMatch(/^#\/components\//);
      const target = ref
        .slice(2)
        .split("/")
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
      expect(target, ref).toBeDefined();
    }
  });

  it("documents the contract's error envelope for /v1 routes", async () => {
    const doc = await getDoc();
    const op = doc.paths["/v1/account"]?.get;
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(["200", "401", "403", "429", "500"]));
    expect(doc.components?.schemas).toHaveProperty("Error");
  });
});

describe("the response check every test's requests go through", () => {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const website = {
    id: "web_01jf8z3k6m9q2w4e6r8t0y2u4i",
    name: "Home",
    url: "https://example.com/",
    capture: { headers: { "X-A": "1" } },
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    last_capture_at: null,
    change_detection: {
      enabled: true,
      threshold: 0.1,
      tile_threshold: 2,
      ignore_selectors: [],
      ignore_regions: [],
      baseline: "previous",
    },
    baseline_screenshot_id: null,
  };

  it("accepts a documented answer, following $refs to components", async () => {
    expect(await responseProblems("GET", `${BASE}/v1/websites/web_1`, json(website))).toEqual([]);
    expect(await responseProblems("GET", `${BASE}/v1/websites`, json({ data: [website], next_cursor: null }))).toEqual(
      [],
    );
  });

  it("refuses a body that breaks the documented schema, deep inside referenced components", async () => {
    const [wrongType] = await responseProblems("GET", `${BASE}/v1/websites/web_1`, json({ ...website, id: 5 }));
    expect(wrongType).toMatch(/does not match the documented schema/);
    const [badHeader] = await responseProblems(
      "GET",
      `${BASE}/v1/websites`,
      json({ data: [{ ...website, capture: { headers: { "X-A": "a\r\nb" } } }], next_cursor: null }),
    );
    expect(badHeader).toMatch(/capture\/headers\/X-A/);
    const [missing] = await responseProblems("GET", `${BASE}/v1/websites/web_1`, json({ id: website.id }));
    expect(missing).toMatch(/does not match/);
  });

  it("refuses an undocumented status, media type, or a non-envelope error on an unknown route", async () => {
    expect(await responseProblems("GET", `${BASE}/v1/websites/web_1`, json({}, 418))).toEqual([
      expect.stringMatching(/status 418 is not documented for GET \/v1\/websites\/\{id\}/),
    ]);
    const html = new Response("<h1>hi</h1>", { status: 200, headers: { "content-type": "text/html" } });
    expect(await responseProblems("GET", `${BASE}/v1/websites/web_1`, html)).toEqual([
      expect.stringMatching(/Content-Type text\/html is not documented/),
    ]);
    expect(await responseProblems("GET", `${BASE}/nowhere`, json({ error: "nope" }, 404))).toEqual([
      expect.stringMatching(/does not match/),
    ]);
  });

  it("documents a scenario's capture as nullable: null validates", async () => {
    const scenario = {
      id: "scn_1",
      website_id: "web_1",
      name: "s",
      capture: null,
      timeout_ms: 120_000,
      steps: [{ action: "wait", ms: 1 }],
      created_at: "2026-01-01T00:00:00.000Z",
      updated_at: "2026-01-01T00:00:00.000Z",
    };
    expect(await responseProblems("GET", `${BASE}/v1/scenarios/scn_1`, json(scenario))).toEqual([]);
    expect(
      await responseProblems("GET", `${BASE}/v1/scenarios/scn_1`, json({ ...scenario, capture: { full_page: true } })),
    ).toEqual([]);
    expect(
      await responseProblems("GET", `${BASE}/v1/scenarios/scn_1`, json({ ...scenario, capture: "none" })),
    ).not.toEqual([]);
  });
});

describe("odd requests to every documented operation", () => {
  it("are answered with statuses and bodies the document declares", async () => {
    const doc = await getDoc();
    const clock = new ManualClock(Date.parse("2047-01-01T00:00:00Z"));
    const api = appWith({ clock });
    let sent = 0;
    // A fresh rate-limit minute every 40 requests; every answer goes through the response check.
    const send = (path: string, init?: RequestInit) => {
      if (++sent % 40 === 0) clock.advance(MINUTE);
      return api(path, init);
    };
    const acc = await newAccount("business", api);
    const session = { cookie: acc.cookie };
    const seen = new Set<string>();
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace(/\{[^}]+\}/g, "xyz_000");
      for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
        const creds = path.startsWith("/v1/") ? acc.auth : session;
        const hasBody = method !== "GET" && method !== "DELETE";
        const tries: RequestInit[] = [
          { method }, // no credentials
          { method, headers: { ...creds, origin: "https://evil.example" } },
        ];
        if (hasBody) {
          tries.push(
            { method, headers: { ...creds, "content-type": "text/plain" }, body: "hello" },
            { method, headers: { ...creds, "content-type": "application/json" }, body: '{"a":' },
            { method, headers: { ...creds, "content-type": "application/json" }, body: "{}" },
            { method, headers: { ...creds, "content-type": "application/json" }, body: "[]" },
            {
              method,
              headers: { ...creds, "content-type": "application/json" },
              body: JSON.stringify({ x: "y".repeat(1024 * 1024) }),
            },
          );
        } else {
          tries.push({ method, headers: creds });
        }
        for (const init of tries) {
          const res = await send(path, init);
          seen.add(`${method} ${template} ${res.status}`);
          await res.arrayBuffer();
        }
      }
    }
    // The sweep reached the answers it is about.
    for (const expected of [
      "POST /auth/login 415",
      "PUT /account/plan 403",
      "POST /v1/websites 413",
      "GET /v1/websites/{id} 404",
    ])
      expect(seen).toContain(expected);
  });
});
