import { describe, expect, it } from "vitest";
import { defaultDeps } from "../../../src/app";
import { DAY, ManualClock } from "../../../src/lib/clock";
import {
  appWith,
  body,
  call,
  createWebsite,
  expectError,
  type Fetch,
  FIXTURE,
  jsonInit,
  newAccount,
  sessionCookie,
  type TestAccount,
  uniqueEmail,
} from "../../helpers";

interface Team {
  members: { id: string; email: string; role: string }[];
  invitations: { id: string; email: string; role: string; expires_at: string }[];
  seats_used: number;
  seats_limit: number;
}

const PASSWORD = "a long enough password";

async function invite(owner: TestAccount, email: string, role = "member", fetcher: Fetch = call) {
  return fetcher("/account/invitations", jsonInit("POST", { email, role }, { cookie: owner.cookie }));
}

const tokenOf = (link: string) => new URL(link).pathname.split("/").pop() as string;

async function inviteAndAccept(owner: TestAccount, role = "member") {
  const email = uniqueEmail("member");
  const res = await invite(owner, email, role);
  expect(res.status).toBe(201);
  const { link } = await body<{ link: string }>(res);
  const accepted = await call(
    "/auth/accept-invitation",
    jsonInit("POST", { token: tokenOf(link), name: "Mia Member", password: PASSWORD }),
  );
  expect(accepted.status).toBe(201);
  return { email, cookie: sessionCookie(accepted), account: await body<{ id: string }>(accepted), link };
}

const team = async (cookie: string) => body<Team>(await call("/account/team", { headers: { cookie } }));

describe("teams: users separate from accounts", () => {
  it("makes whoever signs up the owner, and shows seats in GET /v1/account", async () => {
    const owner = await newAccount("starter");
    const t = await team(owner.cookie);
    expect(t.members).toEqual([expect.objectContaining({ email: owner.email, role: "owner" })]);
    expect(t).toMatchObject({ invitations: [], seats_used: 1, seats_limit: 3 });
    const account = await body<{ team: unknown }>(await call("/v1/account", { headers: owner.auth }));
    expect(account.team).toEqual({ seats_used: 1, seats_limit: 3 });
  });

  it("GET /v1/account counts seats as the team changes, at once: invited, joined, expired", async () => {
    const clock = new ManualClock(Date.now());
    const api = appWith({ clock });
    const owner = await newAccount("pro", api);
    const seats = async () =>
      (await body<{ team: { seats_used: number } }>(await api("/v1/account", { headers: owner.auth }))).team.seats_used;
    expect(await seats()).toBe(1);
    const first = await invite(owner, uniqueEmail("a"), "member", api);
    expect(first.status).toBe(201);
    expect(await seats()).toBe(2);
    // Joining (answered by the Worker, not the account's object) turns the invitation into a member.
    const { link } = await body<{ link: string }>(first);
    const joined = await api(
      "/auth/accept-invitation",
      jsonInit("POST", { token: tokenOf(link), name: "Ann", password: PASSWORD }),
    );
    expect(joined.status).toBe(201);
    expect(await seats()).toBe(2);
    expect((await invite(owner, uniqueEmail("b"), "member", api)).status).toBe(201);
    expect(await seats()).toBe(3);
    // An invitation nobody used stops taking a seat when it expires.
    clock.advance(7 * DAY + 1);
    expect(await seats()).toBe(2);
  });

  it("lets an invited member log in to the same account, with the owners' pages closed to them", async () => {
    const owner = await newAccount("starter");
    const site = await createWebsite(owner, `${FIXTURE()}/page`);
    const member = await inviteAndAccept(owner);
    expect(member.account.id).toBe(owner.id);

    // Pending invitation became a member: seats are owner + member.
    const t = await team(owner.cookie);
    expect(t.seats_used).toBe(2);
    expect(t.invitations).toEqual([]);
    expect(t.members.map((m) => [m.email, m.role])).toEqual([
      [owner.email, "owner"],
      [member.email, "member"],
    ]);
    expect(
      (await body<{ team: { seats_used: number } }>(await call("/v1/account", { headers: owner.auth }))).team,
    ).toEqual({ seats_used: 2, seats_limit: 3 });

    // The member's own session sees the account (and therefore its websites, through the services).
    const seen = await body<{ id: string }>(await call("/account", { headers: { cookie: member.cookie } }));
    expect(seen.id).toBe(owner.id);
    expect(site.id).toMatch(/^web_/);

    // Logging in again works with the member's own password.
    const login = await call("/auth/login", jsonInit("POST", { email: member.email, password: PASSWORD }));
    expect(login.status).toBe(200);
    expect((await body<{ id: string }>(login)).id).toBe(owner.id);

    // Plan, API token and members are the owners'.
    const headers = { cookie: member.cookie };
    await expectError(await call("/account/api-token", { headers }), 403, "forbidden");
    await expectError(await call("/account/api-token", { method: "POST", headers }), 403, "forbidden");
    await expectError(await call("/account/api-token", { method: "DELETE", headers }), 403, "forbidden");
    await expectError(await call("/account/plan", jsonInit("PUT", { plan: "business" }, headers)), 403, "forbidden");
    await expectError(await call("/account/renew", { method: "POST", headers }), 403, "forbidden");
    await expectError(
      await call("/account/invitations", jsonInit("POST", { email: uniqueEmail(), role: "member" }, headers)),
      403,
      "forbidden",
    );
    await expectError(
      await call(`/account/members/${t.members[0]?.id}`, { method: "DELETE", headers }),
      403,
      "forbidden",
    );
    // The token the owner made still works: it belongs to the account, not to a person.
    expect((await call("/v1/websites", { headers: owner.auth })).status).toBe(200);
  });

  it("uses an invitation link once", async () => {
    const owner = await newAccount("starter");
    const { link } = await inviteAndAccept(owner);
    await expectError(
      await call(
        "/auth/accept-invitation",
        jsonInit("POST", { token: tokenOf(link), name: "Again", password: PASSWORD }),
      ),
      404,
      "not_found",
    );
    await expectError(
      await call("/auth/accept-invitation", jsonInit("POST", { token: "not-a-token", name: "X", password: PASSWORD })),
      404,
      "not_found",
    );
  });

  it("lets exactly one of two simultaneous acceptances of one link through", async () => {
    const owner = await newAccount("starter");
    const res = await invite(owner, uniqueEmail("race"));
    const token = tokenOf((await body<{ link: string }>(res)).link);
    const answers = await Promise.all(
      [1, 2].map(() => call("/auth/accept-invitation", jsonInit("POST", { token, name: "Racer", password: PASSWORD }))),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 404]);
    expect((await team(owner.cookie)).members).toHaveLength(2);
  });

  it("counts pending invitations as seats and refuses past the plan's seats, exactly under concurrency", async () => {
    const free = await newAccount("free");
    await expectError(await invite(free, uniqueEmail()), 403, "plan_limit_reached");

    const owner = await newAccount("starter"); // 3 seats: the owner and two more
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => invite(owner, uniqueEmail("seat"))));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 201, 403, 403, 403]);
    for (const refused of answers.filter((a) => a.status === 403))
      await expectError(refused, 403, "plan_limit_reached");
    const t = await team(owner.cookie);
    expect(t.seats_used).toBe(3);
    expect(t.invitations).toHaveLength(2);

    // Revoking one frees its seat, and its link stops working.
    const revoked = t.invitations[0] as Team["invitations"][number];
    expect(
      (await call(`/account/invitations/${revoked.id}`, { method: "DELETE", headers: { cookie: owner.cookie } }))
        .status,
    ).toBe(204);
    expect((await team(owner.cookie)).seats_used).toBe(2);
    expect((await invite(owner, uniqueEmail("again"))).status).toBe(201);
  });

  it("re-inviting an email replaces its link; an email with a login cannot be invited", async () => {
    const owner = await newAccount("starter");
    const email = uniqueEmail("twice");
    const first = await body<{ link: string }>(await invite(owner, email));
    const second = await body<{ link: string }>(await invite(owner, email));
    expect((await team(owner.cookie)).invitations).toHaveLength(1);
    await expectError(
      await call(
        "/auth/accept-invitation",
        jsonInit("POST", { token: tokenOf(first.link), name: "Old", password: PASSWORD }),
      ),
      404,
      "not_found",
    );
    expect(
      (
        await call(
          "/auth/accept-invitation",
          jsonInit("POST", { token: tokenOf(second.link), name: "New", password: PASSWORD }),
        )
      ).status,
    ).toBe(201);
    const other = await newAccount("starter");
    await expectError(await invite(owner, other.email), 409, "conflict");
  });

  it("ends a removed member's sessions at once", async () => {
    const owner = await newAccount("starter");
    const member = await inviteAndAccept(owner);
    const memberId = (await team(owner.cookie)).members.find((m) => m.role === "member")?.id;
    expect((await call("/account", { headers: { cookie: member.cookie } })).status).toBe(200);
    expect(
      (await call(`/account/members/${memberId}`, { method: "DELETE", headers: { cookie: owner.cookie } })).status,
    ).toBe(204);
    await expectError(await call("/account", { headers: { cookie: member.cookie } }), 401, "unauthorized");
    await expectError(
      await call("/auth/login", jsonInit("POST", { email: member.email, password: PASSWORD })),
      401,
      "unauthorized",
    );
    expect((await team(owner.cookie)).seats_used).toBe(1);
  });

  it("lets an invited owner manage the team, but nobody remove themselves", async () => {
    const owner = await newAccount("starter");
    const second = await inviteAndAccept(owner, "owner");
    const members = (await team(owner.cookie)).members;
    const ownerId = members.find((m) => m.email === owner.email)?.id;
    const secondId = members.find((m) => m.email === second.email)?.id;
    expect((await call("/account/api-token", { headers: { cookie: second.cookie } })).status).toBe(200);
    await expectError(
      await call(`/account/members/${secondId}`, { method: "DELETE", headers: { cookie: second.cookie } }),
      409,
      "conflict",
    );
    expect(
      (await call(`/account/members/${ownerId}`, { method: "DELETE", headers: { cookie: second.cookie } })).status,
    ).toBe(204);
  });

  it("answers 404 for another account's invitations and members", async () => {
    const a = await newAccount("starter");
    const b = await newAccount("starter");
    await invite(b, uniqueEmail("b"));
    const bTeam = await team(b.cookie);
    const headers = { cookie: a.cookie };
    await expectError(
      await call(`/account/invitations/${bTeam.invitations[0]?.id}`, { method: "DELETE", headers }),
      404,
      "not_found",
    );
    await expectError(
      await call(`/account/members/${bTeam.members[0]?.id}`, { method: "DELETE", headers }),
      404,
      "not_found",
    );
    expect((await team(b.cookie)).seats_used).toBe(2);
  });

  it("expires an invitation after 7 days, freeing its seat", async () => {
    const clock = new ManualClock(Date.now());
    const app = appWith({ ...defaultDeps(), clock });
    const owner = await newAccount("starter", app);
    const res = await invite(owner, uniqueEmail("late"), "member", app);
    const { link, expires_at } = await body<{ link: string; expires_at: string }>(res);
    expect(Date.parse(expires_at) - clock.now()).toBe(7 * DAY);
    clock.advance(7 * DAY);
    await expectError(
      await app(
        "/auth/accept-invitation",
        jsonInit("POST", { token: tokenOf(link), name: "Late", password: PASSWORD }),
      ),
      404,
      "not_found",
    );
    expect((await body<Team>(await app("/account/team", { headers: { cookie: owner.cookie } }))).seats_used).toBe(1);
  });
});
