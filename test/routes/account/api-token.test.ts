import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { generateApiToken, isWellFormedToken } from "../../../src/lib/api-token";
import { crc32, sha256Hex, toBase62 } from "../../../src/lib/crypto";
import { appWith, body, brokenD1, call, expectError, newAccount } from "../../helpers";

interface TokenView {
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  token?: string;
}

describe("API token format", () => {
  it("is snpt_ + 30 base62 + a 6-char base62 CRC32 of the random part", () => {
    const token = generateApiToken();
    expect(token).toMatch(/^snpt_[0-9A-Za-z]{36}$/);
    const random = token.slice(5, 35);
    expect(token.slice(35)).toBe(toBase62(crc32(random), 6));
    expect(isWellFormedToken(token)).toBe(true);
  });

  it("rejects a changed character through the checksum", () => {
    const token = generateApiToken();
    const flipped = `${token.slice(0, 10)}${token[10] === "a" ? "b" : "a"}${token.slice(11)}`;
    expect(isWellFormedToken(flipped)).toBe(false);
    expect(isWellFormedToken(`${token} `)).toBe(false);
    expect(isWellFormedToken(token.replace("snpt_", "ghp_x"))).toBe(false);
  });

  it("refuses a token with a bad checksum without touching the database", async () => {
    const acc = await newAccount("pro");
    const bad = `${acc.token.slice(0, -1)}${acc.token.endsWith("0") ? "1" : "0"}`;
    // With D1 down, a lookup would be a 500; a checksum failure is answered before any.
    const fetcher = appWith({}, { DB: brokenD1() });
    await expectError(
      await fetcher("/v1/account", { headers: { authorization: `Bearer ${bad}` } }),
      401,
      "unauthorized",
    );
    const unknown = await fetcher("/v1/account", { headers: { authorization: `Bearer ${generateApiToken()}` } });
    expect(unknown.status).toBe(500);
  });
});

describe("/account/api-token", () => {
  it("shows the plaintext once, stores only its SHA-256, and GET shows prefix and dates only", async () => {
    const acc = await newAccount("pro");
    const row = await env.DB.prepare("SELECT token_hash, prefix FROM api_tokens WHERE account_id = ?")
      .bind(acc.id)
      .first<{ token_hash: string; prefix: string }>();
    expect(row?.token_hash).toBe(await sha256Hex(acc.token));
    expect(acc.token.startsWith(row?.prefix ?? "?")).toBe(true);

    const res = await call("/account/api-token", { headers: { cookie: acc.cookie } });
    expect(res.status).toBe(200);
    const view = await body<TokenView>(res);
    expect(view.token).toBeUndefined();
    expect(JSON.stringify(view)).not.toContain(acc.token.slice(9));
    expect(view.prefix).toBe(acc.token.slice(0, 9));
    expect(Date.parse(view.created_at)).not.toBeNaN();
  });

  it("records last_used_at when the token is used", async () => {
    const acc = await newAccount("pro");
    const before = await body<TokenView>(await call("/account/api-token", { headers: { cookie: acc.cookie } }));
    expect(before.last_used_at).toBeNull();
    expect((await call("/v1/account", { headers: acc.auth })).status).toBe(200);
    // Written to the directory by the account's object, off the request's path.
    await vi.waitFor(async () => {
      const after = await body<TokenView>(await call("/account/api-token", { headers: { cookie: acc.cookie } }));
      expect(after.last_used_at).not.toBeNull();
    });
  });

  it("regenerating invalidates the old token on the very next request", async () => {
    const acc = await newAccount("pro");
    expect((await call("/v1/account", { headers: acc.auth })).status).toBe(200);
    const res = await call("/account/api-token", { method: "POST", headers: { cookie: acc.cookie } });
    expect(res.status).toBe(201);
    const { token } = await body<TokenView>(res);
    expect(token).not.toBe(acc.token);
    await expectError(await call("/v1/account", { headers: acc.auth }), 401, "unauthorized");
    expect((await call("/v1/account", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it("revoking takes effect on the very next request, and GET then answers 404", async () => {
    const acc = await newAccount("pro");
    expect((await call("/v1/account", { headers: acc.auth })).status).toBe(200);
    expect((await call("/account/api-token", { method: "DELETE", headers: { cookie: acc.cookie } })).status).toBe(204);
    const res = await call("/v1/account", { headers: acc.auth });
    await expectError(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    await expectError(await call("/account/api-token", { headers: { cookie: acc.cookie } }), 404, "not_found");
    await expectError(
      await call("/account/api-token", { method: "DELETE", headers: { cookie: acc.cookie } }),
      404,
      "not_found",
    );
  });

  it("is per account: one account regenerating or revoking leaves another's token alone", async () => {
    const a = await newAccount("pro");
    const b = await newAccount("pro");
    await call("/account/api-token", { method: "POST", headers: { cookie: a.cookie } });
    await call("/account/api-token", { method: "DELETE", headers: { cookie: a.cookie } });
    const res = await call("/v1/account", { headers: b.auth });
    expect(res.status).toBe(200);
    expect((await body<{ id: string }>(res)).id).toBe(b.id);
    const view = await body<TokenView>(await call("/account/api-token", { headers: { cookie: b.cookie } }));
    expect(view.prefix).toBe(b.token.slice(0, 9));
  });

  it("needs a session", async () => {
    await expectError(await call("/account/api-token", { method: "POST" }), 401, "unauthorized");
    const acc = await newAccount("pro");
    // An API token is not a session.
    await expectError(await call("/account/api-token", { headers: acc.auth }), 401, "unauthorized");
  });
});
