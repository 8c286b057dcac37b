import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { DAY, HOUR, ManualClock, MINUTE } from "../../../src/lib/clock";
import { PLANS } from "../../../src/limits/plans";
import { effectivePlan } from "../../../src/limits/subscription";
import { shortestGapMinutes } from "../../../src/schedules/timing";
import { dispatchDue } from "../../../src/services/dispatch";
import { purgeExpired } from "../../../src/services/retention";
import {
  accountObject,
  accountSql,
  appWith,
  body,
  createScenario,
  createWebsite,
  expectError,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  runSettled,
  settled,
  type TestAccount,
} from "../../helpers";

type Schedule = {
  id: string;
  website_id: string | null;
  scenario_id: string | null;
  enabled: boolean;
  paused_reason: string | null;
  next_run_at: string | null;
  last_run_at: string | null;
  last_status: string | null;
  timezone: string;
};

/** The account's timers run everything due at `now` (what its alarm does, with a fixed clock). */
const wake = (acc: TestAccount, now: number) => accountObject(acc.id).wake(acc.id, now);

/** Uses up `captures` of the account's quota at `now`, in its object (the counters the API uses). */
const consume = (acc: TestAccount, captures: number, now: number) =>
  inAccount(acc.id, async (_db, object) => {
    await object.snapshot(); // the quota follows the account's plan
    return object.scope().quota.consume(captures, now);
  });

/**
 * Each test runs in its own far-future stretch of time, so the minute cron's backstop (which
 * wakes every account whose recorded wake time is past) never mixes them up.
 */
let era = Date.parse("2040-01-06T00:00:00Z");
const nextEra = () => {
  era += 400 * DAY;
  return new ManualClock(era);
};

async function schedule(api: ReturnType<typeof appWith>, acc: TestAccount, payload: Record<string, unknown>) {
  const res = await api("/v1/schedules", jsonInit("POST", payload, acc.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return body<Schedule>(res);
}

const row = async (acc: TestAccount, id: string) =>
  (
    await accountSql<{
      enabled: number;
      next_run_at: number | null;
      last_run_at: number | null;
      last_status: string | null;
      paused_reason: string | null;
    }>(acc.id, "SELECT enabled, next_run_at, last_run_at, last_status, paused_reason FROM schedules WHERE id = ?", id)
  )[0];
const shotsFor = (acc: TestAccount, scheduleId: string) =>
  accountSql<{ id: string; source: string; status: string }>(
    acc.id,
    "SELECT id, source, status FROM screenshots WHERE schedule_id = ?",
    scheduleId,
  );

describe("schedule definitions", () => {
  it("validates cron, time zone, targets and the plan's fastest rate with 422", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const cases: [Record<string, unknown>, string][] = [
      [{ website_id: site.id, cron: "61 * * * *" }, "cron"],
      [{ website_id: site.id, cron: "* * * * * *" }, "cron"],
      [{ website_id: site.id, cron: "0 0 30 2 *" }, "cron"],
      [{ website_id: site.id, cron: "0 9 * * *", timezone: "Mars/Olympus_Mons" }, "timezone"],
      [{ website_id: site.id, cron: "0 9 * * *", interval_minutes: 60 }, "cron"],
      [{ website_id: site.id }, "cron"],
      [{ cron: "0 9 * * *" }, "website_id"],
      [{ website_id: site.id, scenario_id: "scn_x", cron: "0 9 * * *" }, "website_id"],
      [{ website_id: site.id, cron: "*/2 * * * *" }, "cron"],
      [{ website_id: site.id, interval_minutes: 4 }, "interval_minutes"],
    ];
    for (const [payload, field] of cases) {
      const err = await expectError(
        await api("/v1/schedules", jsonInit("POST", payload, acc.auth)),
        422,
        "validation_failed",
      );
      expect(Object.keys(err.errors ?? {}), JSON.stringify(payload)).toContain(field);
    }
    const fast = await expectError(
      await api("/v1/schedules", jsonInit("POST", { website_id: site.id, cron: "*/2 * * * *" }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(fast.errors?.cron?.[0]).toBe("Runs as often as every 2 min; the business plan allows at most every 5 min");
  });

  it("explains a bad cron: the five fields, and which one is wrong", async () => {
    const api = appWith({ clock: nextEra() });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const help = "A cron expression has 5 fields: minute hour day-of-month month day-of-week, e.g. `*/15 * * * *`";
    const cases: [string, string][] = [
      ["* * * *", `Has 4 fields, not 5. ${help}`],
      ["0 9 * * 1-5 2030", `Has 6 fields, not 5. ${help}`],
      ["@daily", `Has 1 field, not 5. ${help}`],
      ["61 * * * *", `The minute field \`61\` is out of range: use 0–59. ${help}`],
      ["0 25 * * *", `The hour field \`25\` is out of range: use 0–23. ${help}`],
      ["0 0 0 * *", `The day-of-month field \`0\` is out of range: use 1–31 or L. ${help}`],
      ["0 0 * 13 *", `The month field \`13\` is out of range: use 1–12 or JAN–DEC. ${help}`],
      ["0 0 * * 8", `The day-of-week field \`8\` is out of range: use 0–7 or SUN–SAT (0 and 7 are Sunday). ${help}`],
      [
        "0 abc * * *",
        `The hour field \`abc\` is not valid: use 0–23, \`*\`, lists (\`1,15\`), ranges (\`1-5\`) and steps (\`*/10\`). ${help}`,
      ],
    ];
    for (const [cron, message] of cases) {
      const err = await expectError(
        await api("/v1/schedules", jsonInit("POST", { website_id: site.id, cron }, acc.auth)),
        422,
        "validation_failed",
      );
      expect(err.errors, cron).toEqual({ cron: [message] });
      expect(err.errors?.cron?.[0]).not.toMatch(/parts|CronPattern/);
    }
  });

  it("judges the cron's shortest gap, not just the next one", async () => {
    // Mondays at 00:00 and 00:30: from a Monday 00:15 the next gap is a week, the shortest 30 min.
    const clock = new ManualClock(Date.parse("2041-01-07T00:15:00Z"));
    expect(new Date(clock.now()).getUTCDay()).toBe(1);
    const api = appWith({ clock });
    const acc = await newAccount("starter", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const err = await expectError(
      await api("/v1/schedules", jsonInit("POST", { website_id: site.id, cron: "0,30 0 * * 1" }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(err.errors?.cron?.[0]).toMatch(/every 30 min; the starter plan allows at most every 1 h/);
    expect(shortestGapMinutes("0 1,23 * * *")).toBe(120); // 23:00 → 01:00 across midnight
    expect(shortestGapMinutes("0 0 * * 1,2")).toBe(1440);
    expect(shortestGapMinutes("0 0 1 1 *")).toBe(365 * 1440);
  });

  it("computes next_run_at in the schedule's time zone across a DST change", async () => {
    const clock = new ManualClock(Date.parse("2033-03-25T12:00:00Z"));
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const s = await schedule(api, acc, { website_id: site.id, cron: "0 9 * * *", timezone: "Europe/Berlin" });
    expect(s.next_run_at).toBe("2033-03-26T08:00:00.000Z"); // 09:00 CET
    const ny = await schedule(api, acc, {
      website_id: site.id,
      cron: "30 2 * * *",
      timezone: "America/New_York",
      enabled: false,
    });
    expect(ny.next_run_at).toBeNull();
    const enabled = await body<Schedule>(
      await api(`/v1/schedules/${ny.id}`, jsonInit("PATCH", { enabled: true }, acc.auth)),
    );
    expect(enabled.next_run_at).toBe("2033-03-26T06:30:00.000Z"); // 02:30 EDT, after the US change
    // Berlin moves to CEST on 2033-03-27: the run after the change is at 07:00Z.
    await wake(acc, Date.parse("2033-03-26T08:00:00Z"));
    expect((await row(acc, s.id))?.next_run_at).toBe(Date.parse("2033-03-27T07:00:00Z"));
  });

  it("reads, lists, updates and deletes, within the account", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("pro", api);
    const other = await newAccount("pro", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const s = await schedule(api, acc, { website_id: site.id, interval_minutes: 30 });
    expect(s).toMatchObject({
      website_id: site.id,
      scenario_id: null,
      enabled: true,
      timezone: "UTC",
      last_run_at: null,
      last_status: null,
    });
    expect(Date.parse(s.next_run_at as string)).toBe(clock.now() + 30 * MINUTE);
    const list = await body<{ data: Schedule[] }>(
      await api(`/v1/schedules?website_id=${site.id}`, { headers: acc.auth }),
    );
    expect(list.data.map((x) => x.id)).toEqual([s.id]);
    const toCron = await body<Schedule & { cron: string; interval_minutes: number | null }>(
      await api(`/v1/schedules/${s.id}`, jsonInit("PATCH", { cron: "0 * * * *" }, acc.auth)),
    );
    expect(toCron).toMatchObject({ cron: "0 * * * *", interval_minutes: null });
    await expectError(
      await api(`/v1/schedules/${s.id}`, jsonInit("PATCH", { interval_minutes: 5 }, acc.auth)),
      422,
      "validation_failed",
    );
    for (const init of [
      { headers: other.auth },
      jsonInit("PATCH", { enabled: false }, other.auth),
      { method: "DELETE", headers: other.auth },
    ]) {
      await expectError(await api(`/v1/schedules/${s.id}`, init), 404, "not_found");
    }
    await expectError(
      await api("/v1/schedules", jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, other.auth)),
      404,
      "not_found",
    );
    expect((await api(`/v1/schedules/${s.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    await expectError(await api(`/v1/schedules/${s.id}`, { headers: acc.auth }), 404, "not_found");
  });
});

describe("each account's timers", () => {
  it("fires a due schedule once, end to end: the capture runs through the queue and the browser", async () => {
    const clock = new ManualClock(Date.now());
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, `${FIXTURE()}/colors`, undefined, api);
    const s = await schedule(api, acc, { website_id: site.id, interval_minutes: 5 });
    const due = Date.parse(s.next_run_at as string);
    const woken = await wake(acc, due);
    expect(woken.dispatch).toEqual({ fired: 1, skipped: 0, paused: 0 });
    // The alarm is set again for the next slot.
    expect(woken.next).toBe(due + 5 * MINUTE);
    const shots = await shotsFor(acc, s.id);
    expect(shots).toHaveLength(1);
    expect(shots[0]?.source).toBe("schedule");
    const after = await row(acc, s.id);
    expect(after).toMatchObject({ last_run_at: due, next_run_at: due + 5 * MINUTE });
    // Woken again at the same time (a repeated alarm): nothing fires twice.
    expect((await wake(acc, due)).dispatch).toEqual({ fired: 0, skipped: 0, paused: 0 });
    expect(await shotsFor(acc, s.id)).toHaveLength(1);
    const shot = await settled(acc, shots[0]?.id as string);
    expect(shot).toMatchObject({ status: "completed", source: "schedule" });
    expect((await row(acc, s.id))?.last_status).toBe("completed");
  });

  it("two overlapping wake-ups fire each schedule exactly once", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await schedule(api, acc, { website_id: site.id, interval_minutes: 60 })).id);
    const at = clock.now() + HOUR;
    const woken = await Promise.all([wake(acc, at), wake(acc, at), wake(acc, at)]);
    expect(woken.reduce((n, w) => n + w.dispatch.fired, 0)).toBe(ids.length);
    for (const id of ids) expect(await shotsFor(acc, id), id).toHaveLength(1);
  });

  it("fires a missed window once, not once per missed slot", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const s = await schedule(api, acc, { website_id: site.id, interval_minutes: 60 });
    const created = clock.now();
    await wake(acc, created + 5 * HOUR + 10 * MINUTE); // nothing ran for five slots
    expect(await shotsFor(acc, s.id)).toHaveLength(1);
    expect((await row(acc, s.id))?.next_run_at).toBe(created + 6 * HOUR);
  });

  it("dispatches in bounded batches that continue until every due schedule fired once", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await schedule(api, acc, { website_id: site.id, interval_minutes: 60 })).id);
    const at = clock.now() + HOUR;
    const [due] = await accountSql<{ n: number }>(
      acc.id,
      "SELECT count(*) AS n FROM schedules WHERE enabled = 1 AND next_run_at <= ?",
      at,
    );
    expect(due?.n).toBe(ids.length);
    // One pass of the account's dispatcher with a budget of three (a wake-up's budget is larger).
    const pass = () =>
      inAccount(acc.id, async (db, object) => {
        const account = await object.snapshot();
        if (!account) throw new Error("no account");
        const scope = object.scope();
        const events = { db, accountId: acc.id, queue: env.WEBHOOKS, plan: effectivePlan(account, at) };
        return dispatchDue(scope, events, env.JOBS, account, at, 3);
      });
    const handled = (r: Awaited<ReturnType<typeof dispatchDue>>) => r.fired + r.skipped + r.paused;
    const passes = [await pass()];
    while ((passes.at(-1) as Awaited<ReturnType<typeof dispatchDue>>).more) passes.push(await pass());
    // Three per pass; the pass that finds fewer (or none) left says so.
    expect(passes.map(handled)).toEqual([3, 3, 1]);
    expect(passes.map((p) => p.more)).toEqual([true, true, false]);
    for (const id of ids) expect(await shotsFor(acc, id), id).toHaveLength(1);
  });

  it("skips expired subscriptions and exhausted quotas, saying why, and still advances", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const expired = await newAccount("business", api);
    const full = await newAccount("business", api);
    const a = await schedule(api, expired, {
      website_id: (await createWebsite(expired, "https://example.com/", undefined, api)).id,
      interval_minutes: 60,
    });
    const b = await schedule(api, full, {
      website_id: (await createWebsite(full, "https://example.com/", undefined, api)).id,
      interval_minutes: 60,
    });
    const at = clock.now() + HOUR;
    // `full` used its whole daily quota at that time; `expired` never renewed (period ends after a month).
    expect((await consume(full, PLANS.business.capturesPerDay, at)).ok).toBe(true);
    expect((await wake(expired, at)).dispatch).toEqual({ fired: 1, skipped: 0, paused: 0 });
    expect((await wake(full, at)).dispatch).toEqual({ fired: 0, skipped: 1, paused: 0 });
    expect(await row(full, b.id)).toMatchObject({
      last_status: "skipped: capture quota exceeded",
      next_run_at: at + HOUR,
    });
    const later = clock.now() + 40 * DAY + HOUR;
    await wake(expired, later);
    await wake(full, later);
    expect((await row(expired, a.id))?.last_status).toBe("skipped: subscription expired");
    expect(await shotsFor(expired, a.id)).toHaveLength(1); // only the run before it expired
    // `full` never captured: out of quota at first, expired later.
    expect((await row(full, b.id))?.last_status).toBe("skipped: subscription expired");
    expect(await shotsFor(full, b.id)).toHaveLength(0);
  });

  it("runs a scheduled scenario end to end", async () => {
    const clock = new ManualClock(Date.now());
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, `${FIXTURE()}/colors`, undefined, api);
    const scn = await createScenario(acc, {
      website_id: site.id,
      name: "check",
      steps: [{ action: "assert_visible", selector: "#box" }],
    });
    const s = await schedule(api, acc, { scenario_id: scn.id, interval_minutes: 10 });
    expect((await wake(acc, Date.parse(s.next_run_at as string))).dispatch.fired).toBe(1);
    const runs = await accountSql<{ id: string; trigger: string; schedule_id: string }>(
      acc.id,
      "SELECT id, trigger, schedule_id FROM runs WHERE scenario_id = ?",
      scn.id,
    );
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: "schedule", schedule_id: s.id });
    const done = await runSettled(acc, runs[0]?.id as string);
    expect(done).toMatchObject({ status: "passed", trigger: "schedule" });
    await vi.waitFor(async () => expect((await row(acc, s.id))?.last_status).toBe("passed"));
  });
});

describe("plan changes over time", () => {
  it("applies a downgrade at the period end: data kept, too-fast schedules paused, limits enforced", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const sites = [];
    for (let i = 0; i < 6; i++) sites.push(await createWebsite(acc, `https://s${i}.example.com/`, undefined, api));
    const fast = await schedule(api, acc, { website_id: sites[0]?.id, cron: "*/5 * * * *" });
    const slow = await schedule(api, acc, { website_id: sites[1]?.id, cron: "0 */2 * * *" });
    await api("/account/plan", jsonInit("PUT", { plan: "starter" }, { cookie: acc.cookie }));
    await api("/account/renew", { method: "POST", headers: { cookie: acc.cookie } });
    const account = await env.DB.prepare("SELECT pending_plan_at FROM accounts WHERE id = ?")
      .bind(acc.id)
      .first<number>("pending_plan_at");
    expect((await wake(acc, account as number)).planChanged).toBe(true);
    expect(await env.DB.prepare("SELECT plan, pending_plan FROM accounts WHERE id = ?").bind(acc.id).first()).toEqual({
      plan: "starter",
      pending_plan: null,
    });
    const paused = await row(acc, fast.id);
    expect(paused).toMatchObject({ enabled: 0, next_run_at: null });
    expect(paused?.paused_reason).toBe(
      "Paused: Runs as often as every 5 min; the starter plan allows at most every 1 h",
    );
    expect((await row(acc, slow.id))?.enabled).toBe(1);
    // Woken again at the same time (a repeated alarm): the change is not applied twice.
    expect((await wake(acc, account as number)).planChanged).toBe(false);

    clock.set((account as number) + MINUTE);
    const list = await body<{ data: unknown[] }>(await api("/v1/websites", { headers: acc.auth }));
    expect(list.data).toHaveLength(6);
    await expectError(
      await api("/v1/websites", jsonInit("POST", { name: "x", url: "https://x.example.com/" }, acc.auth)),
      403,
      "plan_limit_reached",
    );
    await expectError(
      await api("/v1/screenshots/download-bulk", jsonInit("POST", { website_id: sites[0]?.id }, acc.auth)),
      403,
      "feature_unavailable",
    );
    const resume = await expectError(
      await api(`/v1/schedules/${fast.id}`, jsonInit("PATCH", { enabled: true }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(resume.errors?.cron?.[0]).toMatch(/starter plan/);
    const shown = await body<Schedule>(await api(`/v1/schedules/${fast.id}`, { headers: acc.auth }));
    expect(shown).toMatchObject({ enabled: false, paused_reason: expect.stringMatching(/^Paused/) });
  });
});

describe("retention", () => {
  const shotRow = async (acc: TestAccount, id: string) =>
    (await accountSql(acc.id, "SELECT id FROM screenshots WHERE id = ?", id))[0];

  async function seed(acc: TestAccount, websiteId: string, ageMs: number, now: number) {
    const id = `shot_${crypto.randomUUID().replace(/-/g, "").slice(0, 26)}`;
    const key = `acc/${acc.id}/web/${websiteId}/shot/${id}.1.png`;
    await env.SHOTS.put(key, "png");
    await accountSql(
      acc.id,
      `INSERT INTO screenshots (id, website_id, source, status, url, options, attempts, r2_key, format, created_at, updated_at)
       VALUES (?, ?, 'api', 'completed', 'https://example.com/', '{}', 1, ?, 'png', ?, ?)`,
      id,
      websiteId,
      key,
      now - ageMs,
      now - ageMs,
    );
    return { id, key };
  }

  it("deletes screenshots past each account's window (bytes and rows) and nothing younger; expires_at agrees", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const starter = await newAccount("starter", api);
    const business = await newAccount("business", api);
    const now = clock.now();
    const sSite = await createWebsite(starter, "https://example.com/", undefined, api);
    const bSite = await createWebsite(business, "https://example.com/", undefined, api);
    const old = await seed(starter, sSite.id, 31 * DAY, now);
    const young = await seed(starter, sSite.id, 29 * DAY, now);
    const bizOld = await seed(business, bSite.id, 31 * DAY, now);
    const shown = await body<{ expires_at: string; created_at: string }>(
      await api(`/v1/screenshots/${young.id}`, { headers: starter.auth }),
    );
    expect(Date.parse(shown.expires_at) - Date.parse(shown.created_at)).toBe(30 * DAY);

    // Each account's alarm purges its own rows.
    const expiresAt = Date.parse(shown.expires_at);
    const woken = await wake(starter, now);
    expect(woken.purged).toEqual({ screenshots: 1, runs: 0 });
    expect(woken.next).toBe(expiresAt); // the alarm is set for the next row to expire
    expect((await wake(business, now)).purged).toEqual({ screenshots: 0, runs: 0 });

    expect(await shotRow(starter, old.id)).toBeUndefined();
    expect(await env.SHOTS.head(old.key)).toBeNull();
    expect(await shotRow(starter, young.id)).toBeDefined();
    expect(await env.SHOTS.head(young.key)).not.toBeNull();
    expect(await shotRow(business, bizOld.id)).toBeDefined(); // 365 days
    expect(await env.SHOTS.head(bizOld.key)).not.toBeNull();

    // At its expires_at, the young one goes too.
    await wake(starter, expiresAt);
    expect(await shotRow(starter, young.id)).toBeDefined();
    expect((await wake(starter, expiresAt + 1)).purged).toEqual({ screenshots: 1, runs: 0 });
    expect(await shotRow(starter, young.id)).toBeUndefined();
    expect(await env.SHOTS.head(young.key)).toBeNull();
  });

  it("works in bounded batches that resume where they stopped", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("starter", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const now = clock.now();
    const seeded = [];
    for (let i = 0; i < 5; i++) seeded.push(await seed(acc, site.id, 40 * DAY + i * MINUTE, now));
    const remaining = async () =>
      (
        await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM screenshots WHERE website_id = ?", site.id)
      )[0]?.n ?? 0;
    const passes = [];
    for (let more = true; more; ) {
      // One pass of the account's purge with a batch of two (a wake-up's batch is larger).
      const pass = await inAccount(acc.id, (db) => purgeExpired(db, env.SHOTS, PLANS.starter, now, 2));
      passes.push({ ...pass, left: await remaining() });
      more = pass.more;
    }
    expect(passes).toEqual([
      { screenshots: 2, runs: 0, more: true, left: 3 },
      { screenshots: 2, runs: 0, more: true, left: 1 },
      { screenshots: 1, runs: 0, more: false, left: 0 },
    ]);
    for (const s of seeded) expect(await env.SHOTS.head(s.key)).toBeNull();
  });

  it("deletes scenario runs past the window too", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("starter", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const scn = await createScenarioAt(api, acc, site.id);
    const now = clock.now();
    const insertRun = (id: string, age: number) =>
      accountSql(
        acc.id,
        "INSERT INTO runs (id, scenario_id, website_id, trigger, status, steps, attempts, created_at, updated_at) VALUES (?, ?, ?, 'api', 'passed', '[]', 1, ?, ?)",
        id,
        scn,
        site.id,
        now - age,
        now - age,
      );
    await insertRun("run_old_aaaaaaaaaaaaaaaaaaaaaaaa", 31 * DAY);
    await insertRun("run_new_aaaaaaaaaaaaaaaaaaaaaaaa", 2 * DAY);
    expect((await wake(acc, now)).purged).toEqual({ screenshots: 0, runs: 1 });
    const left = await accountSql<{ id: string }>(acc.id, "SELECT id FROM runs WHERE scenario_id = ?", scn);
    expect(left.map((r) => r.id)).toEqual(["run_new_aaaaaaaaaaaaaaaaaaaaaaaa"]);
  });
});

async function createScenarioAt(api: ReturnType<typeof appWith>, acc: TestAccount, websiteId: string) {
  const res = await api(
    "/v1/scenarios",
    jsonInit("POST", { website_id: websiteId, name: "r", steps: [{ action: "wait", ms: 1 }] }, acc.auth),
  );
  return (await body<{ id: string }>(res)).id;
}
