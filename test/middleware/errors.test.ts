import { describe, expect, it } from "vitest";
import { appWith, brokenD1, call, expectError, jsonInit, newAccount } from "../helpers";

describe("one error envelope everywhere", () => {
  it("404 for unknown routes, as JSON with a request id", async () => {
    const res = await call("/definitely/not/here");
    const err = await expectError(res, 404, "not_found");
    expect(err.request_id).toMatch(/^req_/);
  });

  it("405 with Allow for a known path under the wrong method", async () => {
    const res = await call("/auth/login", { method: "DELETE" });
    await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
    const acc = await newAccount("pro");
    const v1 = await call("/v1/account", { method: "DELETE", headers: acc.auth });
    await expectError(v1, 405, "method_not_allowed");
    expect(v1.headers.get("allow")).toBe("GET");
  });

  it("400 bad_request for malformed JSON", async () => {
    const res = await call("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"email": "a@b.c",',
    });
    await expectError(res, 400, "bad_request");
  });

  it("415 for a body that is not JSON", async () => {
    const res = await call("/auth/login", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "email=a",
    });
    await expectError(res, 415, "unsupported_media_type");
  });

  it("413 for bodies over 1 MB, whatever the route", async () => {
    const big = JSON.stringify({ email: "a@b.co", password: "x".repeat(1024 * 1024), name: "a" });
    await expectError(await call("/auth/signup", jsonInit("POST", JSON.parse(big))), 413, "payload_too_large");
    const acc = await newAccount("pro");
    await expectError(
      await call("/v1/account", {
        method: "POST",
        headers: { ...acc.auth, "content-type": "application/json" },
        body: big,
      }),
      413,
      "payload_too_large",
    );
  });

  it("422 with errors keyed by field path", async () => {
    const err = await expectError(await call("/auth/signup", jsonInit("POST", { email: 5 })), 422, "validation_failed");
    expect(err.errors).toHaveProperty("email");
    expect(err.errors).toHaveProperty("password");
    expect(err.errors?.email?.[0]).toEqual(expect.any(String));
  });

  it("500 internal_error with only a message and request id on unexpected failures", async () => {
    const api = appWith({}, { DB: brokenD1() });
    const res = await api("/auth/login", jsonInit("POST", { email: "a@b.co", password: "whatever-password" }));
    const err = await expectError(res, 500, "internal_error");
    expect(Object.keys(err).sort()).toEqual(["error", "message", "request_id"]);
    expect(err.message).not.toMatch(/D1|simulated|stack/i);
  });

  it("puts X-Request-Id on every response, success and failure", async () => {
    for (const res of [await call("/"), await call("/nope"), await call("/v1/account")]) {
      expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9A-Za-z]{20}$/);
    }
  });
});

describe("CORS on /v1", () => {
  it("answers preflight without a token and allows the API's headers", async () => {
    const res = await call("/v1/account", {
      method: "OPTIONS",
      headers: {
        origin: "https://dashboard.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, idempotency-key, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("exposes the rate-limit headers to browsers", async () => {
    const acc = await newAccount("pro");
    const res = await call("/v1/account", { headers: { ...acc.auth, origin: "https://dashboard.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toContain("X-RateLimit-Remaining");
    // Non-browser clients (no Origin) are not sent the CORS headers.
    const plain = await call("/v1/account", { headers: acc.auth });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });
});
