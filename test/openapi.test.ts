import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { call } from "./helpers";

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
  it("is a public OpenAPI 3.1 document with the bearer scheme", async () => {
    const doc = await getDoc();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("SnapTrack API");
    expect(doc.components?.securitySchemes).toHaveProperty("bearerAuth");
  });

  it("documents every route the app serves, each with responses", async () => {
    const doc = await getDoc();
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL" && r.path !== "/" && r.path !== "/v1/openapi.json")
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
