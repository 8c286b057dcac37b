import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from "../../../src/lib/crypto";
import { body, call, expectError, jsonInit, newAccount, sessionCookie, uniqueEmail } from "../../helpers";
import { checked } from "../../response-check";

const PASSWORD = "correct horse battery staple";

async function signup(email: string, password = PASSWORD) {
  return call("/auth/signup", jsonInit("POST", { email, password, name: "Ada" }));
}

describe("signup", () => {
  it("creates a free account, sets an HttpOnly SameSite=Lax session cookie and normalises the email", async () => {
    const email = uniqueEmail("Mixed").toUpperCase();
    const res = await signup(`  ${email} `);
    expect(res.status).toBe(201);
    const account = await body<{ email: string; plan: string; subscription: { status: string } }>(res);
    expect(account.email).toBe(email.toLowerCase());
    expect(account.plan).toBe("free");
    expect(account.subscription.status).toBe("active");

    // On https the name carries the __Host- prefix: Secure, host-only, Path=/ enforced by the browser.
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("__Host-snaptrack_session="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/); // the test base URL is https
    expect(cookie).toMatch(/Path=\//);

    const me = await call("/account", { headers: { cookie: sessionCookie(res) } });
    expect(me.status).toBe(200);
  });

  it("leaves Secure off the cookie on plain http (local dev)", async () => {
    const res = await fetchHttp(
      "/auth/signup",
      jsonInit("POST", { email: uniqueEmail(), password: PASSWORD, name: "A" }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.getSetCookie().join()).not.toMatch(/Secure/);
    expect(res.headers.getSetCookie().join()).toMatch(/^snaptrack_session=/);
  });

  it("refuses a second account for the same email in any letter case", async () => {
    const email = uniqueEmail("dup");
    expect((await signup(email)).status).toBe(201);
    await expectError(await signup(email.toUpperCase()), 409, "conflict");
  });

  it("validates fields with 422 keyed by field", async () => {
    const err = await expectError(
      await call("/auth/signup", jsonInit("POST", { email: "not-an-email", password: "short", name: "" })),
      422,
      "validation_failed",
    );
    expect(Object.keys(err.errors ?? {}).sort()).toEqual(["email", "name", "password"]);
  });

  it("stores a salted PBKDF2-SHA256 hash at exactly 100,000 iterations, never the password", async () => {
    const a = uniqueEmail("hash-a");
    const b = uniqueEmail("hash-b");
    await signup(a);
    await signup(b);
    const rows = await env.DB.prepare("SELECT email, password_hash FROM users WHERE email IN (?, ?)")
      .bind(a, b)
      .all<{ email: string; password_hash: string }>();
    expect(rows.results).toHaveLength(2);
    const [ha, hb] = rows.results.map((r) => r.password_hash) as [string, string];
    for (const h of [ha, hb]) {
      expect(h).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
      expect(h).not.toContain(PASSWORD);
    }
    expect(ha.split("$")[2]).not.toBe(hb.split("$")[2]); // per-user salt
    expect(ha).not.toBe(hb);
  });
});

describe("the account document", () => {
  /** Every key path with its JSON type: two documents of one shape give the same list. */
  const shape = (value: unknown, path = ""): string[] =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? Object.entries(value).flatMap(([k, v]) => shape(v, path ? `${path}.${k}` : k))
      : [`${path}: ${value === null ? "null" : typeof value}`];

  it("is the same from signup, login, PUT /account/plan, POST /account/renew and GET /account", async () => {
    const email = uniqueEmail("shape");
    const created = await signup(email);
    expect(created.status).toBe(201);
    const cookie = sessionCookie(created);
    const loggedIn = await call("/auth/login", jsonInit("POST", { email, password: PASSWORD }));
    expect(loggedIn.status).toBe(200);
    const session = { cookie: sessionCookie(loggedIn) };
    const planned = await call("/account/plan", jsonInit("PUT", { plan: "pro" }, session));
    expect(planned.status).toBe(200);
    const renewed = await call("/account/renew", { method: "POST", headers: session });
    expect(renewed.status).toBe(200);
    const me = await call("/account", { headers: session });
    expect(me.status).toBe(200);
    const docs = {
      signup: await body(created),
      login: await body(loggedIn),
      plan: await body(planned),
      renew: await body(renewed),
      account: await body(me),
    };
    const expected = shape(docs.account).sort();
    expect(expected).toContain("subscription.current_period_end: string");
    for (const [from, doc] of Object.entries(docs)) {
      expect(shape(doc).sort(), from).toEqual(expected);
      expect(doc, from).toMatchObject({ id: docs.account.id, email });
    }
    expect(docs.signup.plan).toBe("free");
    expect(docs.plan.plan).toBe("pro");
    expect(cookie).not.toBe(session.cookie);
  });
});

describe("password hashing constant", () => {
  it("is 100,000 — the most deployed Workers accept", () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000);
  });

  it("verifies its own hashes and refuses rows asking for more iterations than the platform allows", async () => {
    const stored = await hashPassword("s3cret-password");
    expect(await verifyPassword("s3cret-password", stored)).toBe(true);
    expect(await verifyPassword("wrong-password", stored)).toBe(false);
    const inflated = stored.replace("$100000$", "$200000$");
    expect(await verifyPassword("s3cret-password", inflated)).toBe(false);
  });
});

describe("login and logout", () => {
  it("logs in with the password, issuing a new session id and ending the one the browser had", async () => {
    const email = uniqueEmail("login");
    const first = sessionCookie(await signup(email));
    const res = await call(
      "/auth/login",
      jsonInit("POST", { email: email.toUpperCase(), password: PASSWORD }, { cookie: first }),
    );
    expect(res.status).toBe(200);
    const second = sessionCookie(res);
    expect(second).not.toBe(first);
    expect((await call("/account", { headers: { cookie: second } })).status).toBe(200);
    await expectError(await call("/account", { headers: { cookie: first } }), 401, "unauthorized");
  });

  it("answers wrong passwords and unknown emails alike", async () => {
    const email = uniqueEmail("wrong");
    await signup(email);
    const wrong = await expectError(
      await call("/auth/login", jsonInit("POST", { email, password: "not the password" })),
      401,
      "unauthorized",
    );
    const unknown = await expectError(
      await call("/auth/login", jsonInit("POST", { email: uniqueEmail("nobody"), password: PASSWORD })),
      401,
      "unauthorized",
    );
    expect(unknown.message).toBe(wrong.message);
  });

  it("logout ends the session on the server: the old cookie stops working", async () => {
    const cookie = sessionCookie(await signup(uniqueEmail("logout")));
    const res = await call("/auth/logout", { method: "POST", headers: { cookie } });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().join()).toMatch(/__Host-snaptrack_session=;/);
    await expectError(await call("/account", { headers: { cookie } }), 401, "unauthorized");
  });

  it("refuses cross-site writes to session endpoints", async () => {
    const { cookie } = await newAccount("starter");
    const res = await call("/account/api-token", {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    await expectError(res, 403, "forbidden");
  });

  it("never accepts a password as an API token", async () => {
    const acc = await newAccount("pro");
    const res = await call("/v1/account", { headers: { authorization: `Bearer ${acc.password}` } });
    await expectError(res, 401, "unauthorized");
    const oneWord = await call("/v1/account", { headers: { authorization: "Bearer correct-horse-battery-staple" } });
    await expectError(oneWord, 401, "unauthorized");
  });
});

async function fetchHttp(path: string, init: RequestInit) {
  const { exports } = await import("cloudflare:workers");
  const req = new Request(`http://127.0.0.1:8787${path}`, init);
  return checked(req.method, req.url, await exports.default.fetch(req));
}
