import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { HOUR, ManualClock } from "../../src/lib/clock";
import { listOutbox } from "../../src/mail/outbox";
import { ONE_TIME_TTL } from "../../src/services/one-time";
import {
  accountSql,
  appWith,
  body,
  call,
  expectError,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  sessionCookie,
  uniqueEmail,
} from "../helpers";
import { addMember, follow, get, MEMBER_PASSWORD, post } from "../page-helpers";

/**
 * Post/Redirect/Get with one-time values, owners' rights over endpoints, and the account's
 * own settings (name, password, reset, deletion), through the pages and the JSON endpoints.
 */
const outbox = (accountId: string) => inAccount(accountId, (db) => listOutbox(db));
const linkIn = (text: string, path: string) => new RegExp(`https?://[^\\s"<]+${path}[A-Za-z0-9]+`).exec(text)?.[0];

describe("one-time values after a redirect: a reload repeats nothing", () => {
  it("API token: generated once, shown once by the page after; reloading shows it no more and it keeps working", async () => {
    const acc = await newAccount("starter");
    await call("/account/api-token", { method: "DELETE", headers: { cookie: acc.cookie } });
    const made = await post(acc.cookie, "/app/settings/api-keys");
    const { location, page } = await follow(acc.cookie, made);
    expect(location).toMatch(/^\/app\/settings\/api-keys\?shown=[A-Za-z0-9]+#token-box$/);
    const token = /id="new-token"[^>]*value="(snpt_[^"]+)"/.exec(await page.text())?.[1] as string;
    expect(token).toMatch(/^snpt_/);
    // The reload: the same URL again. No token, a word about it, and the token still works.
    const reloaded = await (await get(acc.cookie, location)).text();
    expect(reloaded).not.toContain(token);
    expect(reloaded).toContain("was shown once");
    expect((await call("/v1/account", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    // Regenerate and revoke each ask first; the question page changes nothing.
    expect(await (await get(acc.cookie, "/app/settings/api-keys/regenerate")).text()).toContain(
      "stops working at once",
    );
    expect(await (await get(acc.cookie, "/app/settings/api-keys/revoke")).text()).toContain("Revoke token");
    expect((await call("/v1/account", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const again = await follow(acc.cookie, await post(acc.cookie, "/app/settings/api-keys"));
    expect(await again.page.text()).toContain("the previous token no longer works");
    expect((await call("/v1/account", { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it("a one-time value is its user's alone, and only for a few minutes", async () => {
    const owner = await newAccount("starter");
    const other = await addMember(owner, "owner");
    const made = await post(owner.cookie, "/app/settings/api-keys");
    const location = made.headers.get("location") ?? "";
    expect(await (await get(other.cookie, location)).text()).not.toMatch(/id="new-token"/);
    // Still there for its own user (the other's look did not use it up).
    expect(await (await get(owner.cookie, location)).text()).toMatch(/id="new-token"/);
    // Kept sealed, then gone once shown.
    expect(await accountSql(owner.id, "SELECT id FROM one_time_values")).toEqual([]);

    // Not come back for within a few minutes: gone.
    const clock = new ManualClock(Date.now());
    const pages = appWith({ clock }, {}, false);
    const late = await post(owner.cookie, "/app/settings/api-keys", {}, pages);
    clock.advance(ONE_TIME_TTL + 1);
    expect(await (await get(owner.cookie, late.headers.get("location") ?? "", pages)).text()).not.toMatch(
      /id="new-token"/,
    );
  });

  it("invitation: mailed to the invitee, its link shown once; a reload invites nobody again and the link still works", async () => {
    const owner = await newAccount("starter");
    const email = uniqueEmail("invitee");
    const made = await post(owner.cookie, "/app/settings/team/invitations", { email, role: "member" });
    const { location, page } = await follow(owner.cookie, made);
    expect(location).toMatch(/^\/app\/settings\/team\?invited=[A-Za-z0-9]+&mailed=1#invited$/);
    const html = await page.text();
    const link = /id="invite-link"[^>]*value="([^"]+)"/.exec(html)?.[1] as string;
    expect(link).toMatch(/\/invite\//);
    expect(html).toContain("We mailed them the link");
    const reloaded = await (await get(owner.cookie, location)).text();
    expect(reloaded).not.toContain(link);
    const team = await body<{ invitations: { email: string }[] }>(
      await call("/account/team", { headers: { cookie: owner.cookie } }),
    );
    expect(team.invitations.map((i) => i.email)).toEqual([email]);
    const [mail] = await outbox(owner.id);
    expect(mail).toMatchObject({ to: email, subject: `Test User invited you to Test User on SnapTrack`, sent: true });
    expect(linkIn(mail?.text ?? "", "/invite/")).toBe(link);
    expect(mail?.html).toContain(link);
    const path = new URL(link).pathname;
    expect((await get("", path)).status).toBe(200);

    // The JSON endpoint mails too, and says so.
    const viaApi = await call(
      "/account/invitations",
      jsonInit("POST", { email: uniqueEmail("api"), role: "member" }, { cookie: owner.cookie }),
    );
    expect(await body(viaApi)).toMatchObject({ mailed: true });
    expect(await outbox(owner.id)).toHaveLength(2);
  });
});

describe("rights: endpoints are the owners'; removing a member disables what they added", () => {
  it("lists the endpoints a removed owner added; those not kept are disabled with a reason", async () => {
    const owner = await newAccount("pro");
    const second = await addMember(owner, "owner");
    const add = async (cookie: string, description: string) => {
      const res = await post(cookie, "/app/settings/webhooks", { url: `${FIXTURE()}/hook`, description, events: "*" });
      expect(res.status).toBe(303);
      return (res.headers.get("location") ?? "").split("?")[0]?.split("/").pop() as string;
    };
    const kept = await add(second.cookie, "Kept");
    const dropped = await add(second.cookie, "Dropped");
    const own = await add(owner.cookie, "Mine");
    const question = await (await get(owner.cookie, `/app/settings/team/members/${second.id}/remove`)).text();
    expect(question).toContain("Kept (");
    expect(question).toContain("Dropped (");
    expect(question).not.toContain("Mine (");
    const removed = await post(owner.cookie, `/app/settings/team/members/${second.id}/remove`, { keep: kept });
    const { page } = await follow(owner.cookie, removed);
    expect(await page.text()).toContain("1 endpoint they added was disabled");
    const rows = await accountSql<{ id: string; enabled: number; disabled_reason: string | null }>(
      owner.id,
      "SELECT id, enabled, disabled_reason FROM webhooks ORDER BY id",
    );
    expect(rows).toEqual([
      { id: kept, enabled: 1, disabled_reason: null },
      { id: dropped, enabled: 0, disabled_reason: "Added by Mia Member, who was removed from the account." },
      { id: own, enabled: 1, disabled_reason: null },
    ]);
    expect(await (await get(second.cookie, "/app")).status).toBe(303);
  });

  it("DELETE /account/members/{id} disables them too, unless ?keep= names them", async () => {
    const owner = await newAccount("pro");
    const second = await addMember(owner, "owner");
    const made = await post(second.cookie, "/app/settings/webhooks", { url: `${FIXTURE()}/hook`, events: "*" });
    expect(made.status).toBe(303);
    const res = await call(`/account/members/${second.id}?keep=`, {
      method: "DELETE",
      headers: { cookie: owner.cookie },
    });
    expect(res.status).toBe(204);
    expect(await accountSql(owner.id, "SELECT enabled FROM webhooks")).toEqual([{ enabled: 0 }]);
  });
});

describe("account and password", () => {
  it("PATCH /account renames you (an owner names the account); the page does the same", async () => {
    const owner = await newAccount("starter");
    const member = await addMember(owner);
    const renamed = await call("/account", jsonInit("PATCH", { name: "  Ada Lovelace " }, { cookie: owner.cookie }));
    expect(renamed.status).toBe(200);
    expect(await body(renamed)).toMatchObject({ name: "Ada Lovelace", user: { name: "Ada Lovelace", role: "owner" } });
    const page = await post(member.cookie, "/app/account/name", { name: "Mia M." });
    expect((await follow(member.cookie, page)).location).toBe("/app/account?saved=name");
    const me = await body<{ name: string; user: { name: string } }>(
      await call("/account", { headers: { cookie: member.cookie } }),
    );
    expect(me).toMatchObject({ name: "Ada Lovelace", user: { name: "Mia M." } });
    await expectError(
      await call("/account", jsonInit("PATCH", { name: "" }, { cookie: owner.cookie })),
      422,
      "validation_failed",
    );
  });

  it("POST /account/password: needs the current one, keeps this session and ends the others", async () => {
    const acc = await newAccount("free");
    const second = sessionCookie(
      await call("/auth/login", jsonInit("POST", { email: acc.email, password: acc.password })),
    );
    const wrong = await expectError(
      await call(
        "/account/password",
        jsonInit(
          "POST",
          { current_password: "not my password", new_password: "a new long password" },
          { cookie: acc.cookie },
        ),
      ),
      422,
      "validation_failed",
    );
    expect(wrong.errors).toEqual({ current_password: ["Is not your current password"] });
    const ok = await call(
      "/account/password",
      jsonInit("POST", { current_password: acc.password, new_password: "a new long password" }, { cookie: acc.cookie }),
    );
    expect(ok.status).toBe(204);
    expect((await call("/account", { headers: { cookie: acc.cookie } })).status).toBe(200);
    expect((await call("/account", { headers: { cookie: second } })).status).toBe(401);
    expect(
      (await call("/auth/login", jsonInit("POST", { email: acc.email, password: "a new long password" }))).status,
    ).toBe(200);
    // The page: a wrong password is shown beside its field.
    const page = await post(acc.cookie, "/app/account/password", {
      current_password: "wrong wrong wrong",
      new_password: "another long password",
    });
    expect(page.status).toBe(422);
    expect(await page.text()).toMatch(/id="f-current_password-error">Is not your current password/);
  });

  it("password reset: always 202, a single-use link mailed for an hour, every session ended", async () => {
    const clock = new ManualClock(Date.now());
    const app = appWith({ clock });
    const acc = await newAccount("free");
    const unknown = await app("/auth/password-reset", jsonInit("POST", { email: uniqueEmail("nobody") }));
    expect(unknown.status).toBe(202);
    const known = await app("/auth/password-reset", jsonInit("POST", { email: acc.email.toUpperCase() }));
    expect(known.status).toBe(202);
    // Asking again within a minute sends nothing more (the first link still works).
    expect((await app("/auth/password-reset", jsonInit("POST", { email: acc.email }))).status).toBe(202);
    const mails = await outbox(acc.id);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ to: acc.email, subject: "Reset your SnapTrack password" });
    const link = linkIn(mails[0]?.text ?? "", "/reset-password/") as string;
    const token = new URL(link).pathname.split("/").pop() as string;

    // The page shows whose password it sets; a short password is refused beside its field.
    expect(await (await get("", `/reset-password/${token}`)).text()).toContain(acc.email);
    expect((await post("", `/reset-password/${token}`, { password: "short" })).status).toBe(422);

    const confirmed = await app(
      "/auth/password-reset/confirm",
      jsonInit("POST", { token, password: "brand new password" }),
    );
    expect(confirmed.status).toBe(204);
    expect((await call("/account", { headers: { cookie: acc.cookie } })).status).toBe(401);
    await expectError(
      await app("/auth/password-reset/confirm", jsonInit("POST", { token, password: "another new password" })),
      404,
      "not_found",
    );
    expect(
      (await call("/auth/login", jsonInit("POST", { email: acc.email, password: "brand new password" }))).status,
    ).toBe(200);

    // A link an hour old no longer works.
    clock.advance(2 * 60_000);
    expect((await app("/auth/password-reset", jsonInit("POST", { email: acc.email }))).status).toBe(202);
    const [latest] = await outbox(acc.id);
    const late = new URL(linkIn(latest?.text ?? "", "/reset-password/") as string).pathname.split("/").pop() as string;
    clock.advance(HOUR + 1);
    await expectError(
      await app("/auth/password-reset/confirm", jsonInit("POST", { token: late, password: "too late a password" })),
      404,
      "not_found",
    );
  });

  it("the reset pages: a form on the login page's link, the same answer for any email, then log in", async () => {
    const acc = await newAccount("free");
    expect(await (await get("", "/login")).text()).toContain('href="/password-reset"');
    for (const email of [acc.email, uniqueEmail("nobody")]) {
      const res = await post("", "/password-reset", { email });
      expect(res.headers.get("location")).toBe("/password-reset?sent=1");
    }
    const [mail] = await outbox(acc.id);
    const path = new URL(linkIn(mail?.text ?? "", "/reset-password/") as string).pathname;
    const set = await post("", path, { password: "a fresh long password" });
    expect(set.headers.get("location")).toBe("/login?reset=1");
    expect(await (await get("", "/login?reset=1")).text()).toContain("Your password was changed");
    expect((await get("", path)).status).toBe(404);
  });

  it("DELETE /account: owners only, with the password; the account's records, images and database go", async () => {
    const owner = await newAccount("pro");
    const member = await addMember(owner);
    const site = await body<{ id: string }>(
      await call("/v1/websites", jsonInit("POST", { name: "Doomed", url: FIXTURE() }, owner.auth)),
    );
    const key = `acc/${owner.id}/web/${site.id}/test.png`;
    await env.SHOTS.put(key, new Uint8Array([1, 2, 3]));
    await expectError(
      await call("/account", jsonInit("DELETE", { password: MEMBER_PASSWORD }, { cookie: member.cookie })),
      403,
      "forbidden",
    );
    await expectError(
      await call("/account", jsonInit("DELETE", { password: "not the password" }, { cookie: owner.cookie })),
      422,
      "validation_failed",
    );
    const deleted = await call("/account", jsonInit("DELETE", { password: owner.password }, { cookie: owner.cookie }));
    expect(deleted.status).toBe(204);
    expect(deleted.headers.getSetCookie().join()).toMatch(/snaptrack_session=;/);
    const d1 = async (sql: string) => (await env.DB.prepare(sql).bind(owner.id).first<{ n: number }>())?.n;
    expect(await d1("SELECT count(*) AS n FROM accounts WHERE id = ?")).toBe(0);
    expect(await d1("SELECT count(*) AS n FROM users WHERE account_id = ?")).toBe(0);
    expect(await d1("SELECT count(*) AS n FROM sessions WHERE account_id = ?")).toBe(0);
    expect(await d1("SELECT count(*) AS n FROM api_tokens WHERE account_id = ?")).toBe(0);
    expect(await accountSql(owner.id, "SELECT id FROM websites")).toEqual([]);
    await vi.waitFor(async () => expect(await env.SHOTS.head(key)).toBeNull(), { timeout: 15_000, interval: 200 });
    expect((await call("/v1/account", { headers: owner.auth })).status).toBe(401);
    expect((await call("/account", { headers: { cookie: member.cookie } })).status).toBe(401);
  });

  it("the account page: deletion asks for the password on a page of its own, members are not offered it", async () => {
    const owner = await newAccount("starter");
    const member = await addMember(owner);
    expect(await (await get(member.cookie, "/app/account")).text()).toContain("Only an owner can delete the account");
    expect((await get(member.cookie, "/app/account/delete")).status).toBe(403);
    const question = await (await get(owner.cookie, "/app/account/delete")).text();
    expect(question).toContain("It cannot be undone");
    const wrong = await post(owner.cookie, "/app/account/delete", { password: "wrong password!" });
    expect(wrong.status).toBe(422);
    const done = await post(owner.cookie, "/app/account/delete", { password: owner.password });
    expect(done.headers.get("location")).toBe("/?deleted=1");
    expect((await get(owner.cookie, "/app")).headers.get("location")).toMatch(/^\/login/);
  });
});
