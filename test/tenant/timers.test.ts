// The account's own timers: schedules, retention, the stale-job sweep and a due downgrade run
// from its object's alarm, on the clock they are given; the minute cron only wakes accounts
// whose recorded wake time is overdue (a lost alarm).
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { minuteTick } from "../../src/jobs/cron";
import { DAY, HOUR, ManualClock, MINUTE } from "../../src/lib/clock";
import {
  accountObject,
  accountSql,
  appWith,
  body,
  call,
  createScenario,
  createWebsite,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  requestCapture,
  runToEnd,
  settled,
  type TestAccount,
} from "../helpers";
import { receivedAtLeast, receiver } from "../webhook-receiver";

/** Each test in a far-future stretch of its own, so nothing due in one is due in another. */
let era = Date.parse("2051-01-02T00:00:00Z");
const nextEra = () => {
  era += 400 * DAY;
  return new ManualClock(era);
};

const wakeAt = async (accountId: string) =>
  (
    await env.DB.prepare("SELECT wake_at FROM accounts WHERE id = ?")
      .bind(accountId)
      .first<{ wake_at: number | null }>()
  )?.wake_at ?? null;

const alarmOf = (accountId: string) => inAccount(accountId, (_db, _object, state) => state.storage.getAlarm());

describe("the account's alarm", () => {
  it("fires a due schedule once, sets the alarm for what comes next and records it in the directory", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, `${FIXTURE()}/`, undefined, api);
    const res = await api("/v1/schedules", jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, acc.auth));
    expect(res.status).toBe(201);
    const schedule = await body<{ id: string; next_run_at: string }>(res);
    const due = Date.parse(schedule.next_run_at);
    expect(due).toBe(clock.now() + HOUR);

    // Creating it set the alarm: due in an hour of real time (the caller's clock is the test's).
    const before = Date.now();
    const alarm = await alarmOf(acc.id);
    expect(alarm).toBeGreaterThan(before + HOUR - MINUTE);
    expect(alarm).toBeLessThan(before + HOUR + MINUTE);
    await vi.waitFor(async () => expect(await wakeAt(acc.id)).toBe(due));

    // Not yet due: nothing fires.
    const early = await accountObject(acc.id).wake(acc.id, due - 1);
    expect(early.dispatch.fired).toBe(0);

    const first = await accountObject(acc.id).wake(acc.id, due);
    expect(first.dispatch).toEqual({ fired: 1, skipped: 0, paused: 0 });
    // Next: the capture's lost-message check (10 min) comes before the next run (60 min).
    expect(first.next).toBe(due + 10 * MINUTE);
    // Woken twice at the same moment (an alarm and the cron's backstop): it fires once.
    const again = await accountObject(acc.id).wake(acc.id, due);
    expect(again.dispatch.fired).toBe(0);

    const shots = await accountSql(acc.id, "SELECT source FROM screenshots WHERE schedule_id = ?", schedule.id);
    expect(shots).toEqual([{ source: "schedule" }]);
    const [row] = await accountSql<{ next_run_at: number; last_run_at: number }>(
      acc.id,
      "SELECT next_run_at, last_run_at FROM schedules WHERE id = ?",
      schedule.id,
    );
    expect(row).toEqual({ next_run_at: due + HOUR, last_run_at: due });
  });

  it("deletes what the plan's history no longer keeps (rows and bytes), keeping an approved baseline", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("starter", api); // 30 days of history
    const site = await createWebsite(acc, `${FIXTURE()}/`, undefined, api);
    const created = clock.now();
    const rows = ["shot_old_1", "shot_old_2", "shot_kept"].map((id, i) => ({
      id,
      key: `acc/${acc.id}/web/${site.id}/shot/${id}.png`,
      i,
    }));
    for (const r of rows) {
      await env.SHOTS.put(r.key, "png");
      await accountSql(
        acc.id,
        `INSERT INTO screenshots (id, website_id, source, status, url, options, r2_key, format, created_at, updated_at)
         VALUES (?, ?, 'api', 'completed', ?, '{}', ?, 'png', ?, ?)`,
        r.id,
        site.id,
        `${FIXTURE()}/`,
        r.key,
        created + r.i,
        created + r.i,
      );
    }
    await accountSql(acc.id, "UPDATE websites SET baseline_screenshot_id = 'shot_kept' WHERE id = ?", site.id);

    // Day 29: everything is inside the window.
    const inside = await accountObject(acc.id).wake(acc.id, created + 29 * DAY);
    expect(inside.purged).toEqual({ screenshots: 0, runs: 0 });
    // The next wake-up is when the oldest row leaves the window.
    expect(inside.next).toBe(created + 30 * DAY);

    const after = await accountObject(acc.id).wake(acc.id, created + 31 * DAY);
    expect(after.purged.screenshots).toBe(2);
    const left = await accountSql(acc.id, "SELECT id FROM screenshots ORDER BY id");
    expect(left).toEqual([{ id: "shot_kept" }]);
    expect(await env.SHOTS.head(rows[0]?.key as string)).toBeNull();
    expect(await env.SHOTS.head(rows[2]?.key as string)).not.toBeNull();
  });

  it("applies a downgrade at its time and pauses the schedules the new plan does not allow", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, `${FIXTURE()}/`, undefined, api);
    const fast = await body<{ id: string }>(
      await api("/v1/schedules", jsonInit("POST", { website_id: site.id, interval_minutes: 5 }, acc.auth)),
    );
    const downgrade = await api("/account/plan", jsonInit("PUT", { plan: "starter" }, { cookie: acc.cookie }));
    const account = await body<{ subscription: { pending_plan: string; pending_plan_at: string } }>(downgrade);
    expect(account.subscription.pending_plan).toBe("starter");
    const at = Date.parse(account.subscription.pending_plan_at);

    const result = await accountObject(acc.id).wake(acc.id, at);
    expect(result.planChanged).toBe(true);
    const stored = await env.DB.prepare("SELECT plan, pending_plan FROM accounts WHERE id = ?")
      .bind(acc.id)
      .first<{ plan: string; pending_plan: string | null }>();
    expect(stored).toEqual({ plan: "starter", pending_plan: null });
    const [schedule] = await accountSql<{ enabled: number; paused_reason: string }>(
      acc.id,
      "SELECT enabled, paused_reason FROM schedules WHERE id = ?",
      fast.id,
    );
    expect(schedule?.enabled).toBe(0);
    expect(schedule?.paused_reason).toBe(
      "Paused: Runs as often as every 5 min; the starter plan allows at most every 1 h",
    );
    // The API answers on the new plan at once (the object dropped its copy of the row).
    const me = await body<{ plan: string }>(await api("/account", { headers: { cookie: acc.cookie } }));
    expect(me.plan).toBe("starter");
  });
});

// Every test of the minute cron is here, one after another: a tick wakes every account overdue
// at its time, so these ticks are at times before any other test's (or the real) clock, each
// later than the one before, and each test asserts only what happened to its own accounts.
describe("the minute cron (backstop)", () => {
  it("wakes an account whose recorded wake time is overdue; it sets its alarm and records the next one", async () => {
    const clock = nextEra();
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, `${FIXTURE()}/`, undefined, api);
    const schedule = await body<{ next_run_at: string }>(
      await api("/v1/schedules", jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, acc.auth)),
    );
    // The alarm was lost, and the directory says the account should have woken long ago.
    await inAccount(acc.id, (_db, _object, state) => state.storage.deleteAlarm());
    await inAccount(acc.id, (_db, _object, state) => state.storage.kv.delete("wake_recorded"));
    await env.DB.prepare("UPDATE accounts SET wake_at = 1 WHERE id = ?").bind(acc.id).run();

    await minuteTick(env, 2 * MINUTE);
    expect(await alarmOf(acc.id)).not.toBeNull();
    await vi.waitFor(async () => expect(await wakeAt(acc.id)).toBe(Date.parse(schedule.next_run_at)));
  });

  it("applies a downgrade whose alarm was lost once its recorded time is a minute past, not before", async () => {
    const clock = new ManualClock(Date.parse("1980-03-01T12:00:00Z"));
    const api = appWith({ clock });
    const now = clock.now();
    const planOf = (id: string) =>
      env.DB.prepare("SELECT plan, pending_plan FROM accounts WHERE id = ?").bind(id).first();
    // Two downgrades whose time has come, each account's alarm lost: one recorded two minutes
    // ago (overdue), one thirty seconds ago (its alarm may still be on its way).
    const accounts = [];
    for (const at of [now - 2 * MINUTE, now - 30_000]) {
      const acc = await newAccount("business", api);
      expect((await api("/account/plan", jsonInit("PUT", { plan: "pro" }, { cookie: acc.cookie }))).status).toBe(200);
      await inAccount(acc.id, (_db, _object, state) => state.storage.deleteAlarm());
      await env.DB.prepare("UPDATE accounts SET pending_plan_at = ?, wake_at = ? WHERE id = ?")
        .bind(at, at, acc.id)
        .run();
      await accountObject(acc.id).refresh(acc.id); // the directory changed outside the object
      accounts.push(acc);
    }
    const [overdue, recent] = accounts as [TestAccount, TestAccount];

    await minuteTick(env, now);
    expect(await planOf(overdue.id)).toEqual({ plan: "pro", pending_plan: null });
    expect(await planOf(recent.id)).toEqual({ plan: "business", pending_plan: "pro" });
    // Woken, it has nothing further due: no alarm is left set.
    expect(await alarmOf(overdue.id)).toBeNull();

    // Thirty seconds on, the other one is a minute overdue too.
    await minuteTick(env, now + 30_000);
    expect(await planOf(recent.id)).toEqual({ plan: "pro", pending_plan: null });
  });

  it("fires a schedule whose alarm did not fire, once its recorded wake time is a minute past", async () => {
    const clock = new ManualClock(Date.parse("1990-06-02T10:00:00Z"));
    const api = appWith({ clock });
    const acc = await newAccount("business", api);
    const site = await createWebsite(acc, "https://example.com/", undefined, api);
    const s = await body<{ id: string; next_run_at: string }>(
      await api("/v1/schedules", jsonInit("POST", { website_id: site.id, interval_minutes: 60 }, acc.auth)),
    );
    const due = Date.parse(s.next_run_at);
    const shots = () => accountSql(acc.id, "SELECT id FROM screenshots WHERE schedule_id = ?", s.id);
    // The object set its alarm for the schedule and recorded the time in the directory.
    await vi.waitFor(async () => expect(await wakeAt(acc.id)).toBe(due));
    // Within a minute of it the alarm is trusted: the cron leaves the account alone.
    await minuteTick(env, due + 30_000);
    expect(await shots()).toHaveLength(0);
    // A minute past, the alarm is taken as lost: the cron wakes the account and the schedule fires.
    await minuteTick(env, due + MINUTE);
    expect(await shots()).toHaveLength(1);
    const [row] = await accountSql(acc.id, "SELECT last_run_at, next_run_at FROM schedules WHERE id = ?", s.id);
    expect(row).toEqual({ last_run_at: due + MINUTE, next_run_at: due + HOUR });
    // Woken again at the same time, nothing fires twice, and its next wake time (the queued
    // capture's stale check, or the next slot) lies ahead of it. (Asked of the object: the
    // capture's own job runs on the real clock and may record a wake time of its own meanwhile.)
    const again = await accountObject(acc.id).wake(acc.id, due + MINUTE);
    expect(again.dispatch.fired).toBe(0);
    expect(again.next).toBeGreaterThan(due + MINUTE);
    expect(again.next).toBeLessThanOrEqual(due + HOUR);
    // A tick before it wakes nothing.
    await minuteTick(env, due + 2 * MINUTE);
    expect(await shots()).toHaveLength(1);
  });
});

describe("the directory does not grow with use", () => {
  it("keeps every D1 table's row count while an account captures, runs a scenario and receives webhooks", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/`);
    const { url, t } = receiver();
    const hook = await call("/v1/webhooks", jsonInit("POST", { url }, acc.auth));
    expect(hook.status).toBe(201);

    const tables = (
      await env.DB.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
      ).all<{ name: string }>()
    ).results.map((r) => r.name);
    const counts = async () =>
      Object.fromEntries(
        await Promise.all(
          tables.map(async (name) => [
            name,
            (await env.DB.prepare(`SELECT count(*) AS n FROM ${name}`).first<{ n: number }>())?.n ?? 0,
          ]),
        ),
      );
    const before = await counts();
    expect(before).not.toEqual({});

    for (let i = 0; i < 2; i++) {
      const shot = await requestCapture(acc, site.id);
      expect((await settled(acc, shot.id)).status).toBe("completed");
    }
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "visit",
      steps: [
        { action: "goto", url: "/" },
        { action: "screenshot", name: "home" },
      ],
    });
    expect((await runToEnd(acc, scenario.id)).status).toBe("passed");
    await receivedAtLeast(t, 3); // two screenshot.completed and the run

    // Other tests share this D1, so totals may move with them: what this account did is
    // counted by its own rows, which are its login only (one user, session and token).
    const after = await counts();
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const name of tables) {
      const owned = await env.DB.prepare(
        `SELECT count(*) AS n FROM pragma_table_info('${name}') WHERE name = 'account_id'`,
      ).first<{ n: number }>();
      if (!owned?.n) continue;
      const mine = await env.DB.prepare(`SELECT count(*) AS n FROM ${name} WHERE account_id = ?`)
        .bind(acc.id)
        .first<{ n: number }>();
      const login = ["users", "sessions", "api_tokens"].includes(name) ? 1 : 0;
      expect({ table: name, rows: mine?.n }).toEqual({ table: name, rows: login });
    }
  });
});
