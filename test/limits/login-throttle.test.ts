import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/lib/clock";
import {
  addressKey,
  LOGIN_FAILURES_PER_ADDRESS,
  LOGIN_FAILURES_PER_EMAIL,
  LOGIN_WINDOW,
  type LoginThrottler,
} from "../../src/limits/login-throttle";
import { appWith, brokenD1, expectError, type Fetch, jsonInit, sessionCookie, uniqueEmail } from "../helpers";

const PASSWORD = "correct horse battery staple";
let addressSeq = 0;
/** A client address of its own for each use (2001:db8::/32 is the documentation range). */
function uniqueAddress() {
  const [a = 0, b = 0] = crypto.getRandomValues(new Uint16Array(2));
  return `2001:db8:${a.toString(16)}:${b.toString(16)}${(++addressSeq).toString(16)}::1`.replace(
    /:([0-9a-f]{5,}):/,
    (_, g: string) => `:${g.slice(-4)}:`,
  );
}

function client(fetcher: Fetch, address: string) {
  const headers = { "cf-connecting-ip": address };
  return {
    signup: (email: string) =>
      fetcher("/auth/signup", jsonInit("POST", { email, password: PASSWORD, name: "T" }, headers)),
    login: (email: string, password: string) => fetcher("/auth/login", jsonInit("POST", { email, password }, headers)),
  };
}

describe("login throttling per email", () => {
  it(`refuses the attempt after ${LOGIN_FAILURES_PER_EMAIL} failures, even with the right password, until the window has passed`, async () => {
    const clock = new ManualClock(Date.parse("2040-05-01T12:00:00Z"));
    const api = appWith({ clock });
    const address = uniqueAddress();
    const { signup, login } = client(api, address);
    const email = uniqueEmail("throttle");
    expect((await signup(email)).status).toBe(201);

    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) {
      clock.advance(1_000);
      await expectError(await login(email, "not the password"), 401, "unauthorized");
    }
    clock.advance(1_000);
    const locked = await login(email, PASSWORD);
    const err = await expectError(locked, 429, "rate_limited");
    // Sliding window: the first failure (at +1 s) leaves it 15 minutes later; now is +11 s.
    const retryAfter = (LOGIN_WINDOW - 10_000) / 1000;
    expect(locked.headers.get("retry-after")).toBe(String(retryAfter));
    expect(err).toMatchObject({
      limit: LOGIN_FAILURES_PER_EMAIL,
      remaining: 0,
      retry_after: retryAfter,
      reset_at: new Date(Date.parse("2040-05-01T12:00:01Z") + LOGIN_WINDOW).toISOString(),
    });
    // Case and spaces do not make another key.
    await expectError(await login(`  ${email.toUpperCase()} `, PASSWORD), 429, "rate_limited");

    // Refused before any credential work: not even the account lookup happens.
    const noDb = client(appWith({ clock }, { DB: brokenD1() }), address);
    await expectError(await noDb.login(email, PASSWORD), 429, "rate_limited");

    // One second before the oldest failure leaves the window: still locked.
    clock.set(Date.parse("2040-05-01T12:00:01Z") + LOGIN_WINDOW - 1_000);
    await expectError(await login(email, PASSWORD), 429, "rate_limited");
    clock.set(Date.parse("2040-05-01T12:00:01Z") + LOGIN_WINDOW);
    const ok = await login(email, PASSWORD);
    expect(ok.status).toBe(200);
    sessionCookie(ok);
  });

  it("a successful login clears the email's failures", async () => {
    const clock = new ManualClock(Date.parse("2040-06-01T12:00:00Z"));
    const { signup, login } = client(appWith({ clock }), uniqueAddress());
    const email = uniqueEmail("reset");
    await signup(email);
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL - 1; i++)
      await expectError(await login(email, "not the password"), 401, "unauthorized");
    expect((await login(email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++)
      await expectError(await login(email, "not the password"), 401, "unauthorized");
    await expectError(await login(email, PASSWORD), 429, "rate_limited");
  });

  it("unknown emails are throttled exactly like real ones", async () => {
    const clock = new ManualClock(Date.parse("2040-07-01T12:00:00Z"));
    const { signup, login } = client(appWith({ clock }), uniqueAddress());
    const real = uniqueEmail("real");
    await signup(real);
    const unknown = uniqueEmail("nobody");
    const answers: string[] = [];
    for (let i = 0; i <= LOGIN_FAILURES_PER_EMAIL; i++) {
      const a = await login(real, "not the password");
      const b = await login(unknown, "not the password");
      const [ea, eb] = [(await a.json()) as { message: string }, (await b.json()) as { message: string }];
      expect(a.status).toBe(b.status);
      expect(ea.message).toBe(eb.message);
      expect(a.headers.get("retry-after")).toBe(b.headers.get("retry-after"));
      answers.push(String(a.status));
    }
    expect(answers).toEqual([...Array(LOGIN_FAILURES_PER_EMAIL).fill("401"), "429"]);
  });

  it("a throttle on one email does not affect another email from the same address", async () => {
    const clock = new ManualClock(Date.parse("2040-08-01T12:00:00Z"));
    const { signup, login } = client(appWith({ clock }), uniqueAddress());
    const [locked, other] = [uniqueEmail("locked"), uniqueEmail("other")];
    await signup(locked);
    await signup(other);
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) await login(locked, "not the password");
    await expectError(await login(locked, PASSWORD), 429, "rate_limited");
    expect((await login(other, PASSWORD)).status).toBe(200);
    await expectError(await login(other, "not the password"), 401, "unauthorized");
  });

  it("is exact under concurrency: of parallel wrong attempts, exactly the limit get through", async () => {
    const clock = new ManualClock(Date.parse("2040-09-01T12:00:00Z"));
    const { signup, login } = client(appWith({ clock }), uniqueAddress());
    const email = uniqueEmail("parallel");
    await signup(email);
    const results = await Promise.all(
      Array.from({ length: LOGIN_FAILURES_PER_EMAIL + 5 }, () => login(email, "not the password")),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(LOGIN_FAILURES_PER_EMAIL).fill(401), ...Array(5).fill(429)]);
  });
});

describe("login throttling per client address", () => {
  it(`refuses an address after ${LOGIN_FAILURES_PER_ADDRESS} failures across many emails`, async () => {
    const clock = new ManualClock(Date.parse("2040-10-01T12:00:00Z"));
    const address = uniqueAddress();
    const { login } = client(appWith({ clock }), address);
    const statuses = await Promise.all(
      Array.from({ length: LOGIN_FAILURES_PER_ADDRESS }, (_, i) => login(uniqueEmail(`spray${i}`), "not the password")),
    );
    expect(new Set(statuses.map((r) => r.status))).toEqual(new Set([401]));
    const refused = await login(uniqueEmail("spray-next"), "not the password");
    const err = await expectError(refused, 429, "rate_limited");
    expect(err.limit).toBe(LOGIN_FAILURES_PER_ADDRESS);
    expect(err.message).toMatch(/address/);
    expect(refused.headers.get("retry-after")).toBe(String(LOGIN_WINDOW / 1000));
    // Another address is not affected; this one is let in again after the window.
    const elsewhere = client(appWith({ clock }), uniqueAddress());
    await expectError(await elsewhere.login(uniqueEmail("spray-elsewhere"), "not the password"), 401, "unauthorized");
    clock.advance(LOGIN_WINDOW);
    await expectError(await login(uniqueEmail("spray-later"), "not the password"), 401, "unauthorized");
  });

  it("never refuses successful signups and logins from one address (an office onboarding)", async () => {
    const clock = new ManualClock(Date.parse("2040-11-01T12:00:00Z"));
    const { signup, login } = client(appWith({ clock }), uniqueAddress());
    const people = Array.from({ length: LOGIN_FAILURES_PER_ADDRESS + 10 }, (_, i) => uniqueEmail(`office${i}`));
    const signups = await Promise.all(people.map((email) => signup(email)));
    expect(new Set(signups.map((r) => r.status))).toEqual(new Set([201]));
    const logins = await Promise.all(people.map((email) => login(email, PASSWORD)));
    expect(new Set(logins.map((r) => r.status))).toEqual(new Set([200]));
    // A few typos among them are still far from the ceiling.
    await expectError(await login(people[0] as string, "typo typo typo"), 401, "unauthorized");
    expect((await login(people[0] as string, PASSWORD)).status).toBe(200);
  });

  it("keys IPv6 clients by their /64 and IPv4-mapped addresses as IPv4", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:0db8:0001:0002:bbbb:cccc:dddd:eeee"));
    expect(addressKey("2001:db8:1:2::1")).not.toBe(addressKey("2001:db8:1:3::1"));
    expect(addressKey("::ffff:192.0.2.7")).toBe(addressKey("192.0.2.7"));
    expect(addressKey(undefined)).toBe(addressKey(""));
    expect(addressKey("192.0.2.7")).not.toBe(addressKey("192.0.2.8"));
  });
});

describe("a failing login throttle", () => {
  it("answers 503 with Retry-After, never lets the attempt through", async () => {
    const failing: LoginThrottler = {
      attempt: () => Promise.reject(new Error("simulated outage")),
      fail: () => Promise.reject(new Error("simulated outage")),
      release: () => Promise.reject(new Error("simulated outage")),
      reset: () => Promise.reject(new Error("simulated outage")),
    };
    const { login } = client(appWith({ loginThrottle: () => failing }), uniqueAddress());
    const res = await login(uniqueEmail("down"), PASSWORD);
    await expectError(res, 503, "service_unavailable");
    expect(res.headers.get("retry-after")).toBe("2");
  });
});
