import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { screenshots, type Website, websites } from "../../src/db/schema";
import { handleQueue } from "../../src/jobs/consumer";
import { MINUTE } from "../../src/lib/clock";
import { DEFAULT_RUN_TIMEOUT_MS } from "../../src/lib/values";
import type { JobMessage } from "../../src/queue/messages";
import { MAX_DELIVERIES } from "../../src/queue/messages";
import { STALE_CLAIM } from "../../src/services/capture-jobs";
import { RUN_INTERRUPTED, runDeadline } from "../../src/services/run-jobs";
import { screenshotRow } from "../../src/services/screenshots";
import {
  CAPTURE_INTERRUPTED,
  CAPTURE_LOST,
  CAPTURE_RETRY,
  LOST_MESSAGE,
  RUN_SHOT_INTERRUPTED,
  SWEEP_BATCH,
} from "../../src/services/sweep";
import { type ObjectQueues, objectQueues } from "../account-queues";
import {
  accountObject,
  accountSql,
  body,
  call,
  createScenario,
  createWebsite,
  downloadBytes,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  type RunView,
  runSettled,
  type ShotView,
  settled,
  type TestAccount,
} from "../helpers";
import { decodePng, near, RED } from "../png";

// The sweeper runs per account, from its object's alarm, over the account's own rows: each
// test's sweeps (`sweep`, the alarm's work at a fixed time) find only its own account's jobs.

/** A queue that accepts every message and delivers none, as if the crash lost them. */
const lostQueue = { send: async () => {}, sendBatch: async () => {} } as unknown as Queue;

const jobId = (job: JobMessage) =>
  job.type === "capture" ? job.screenshot_id : job.type === "run" ? job.run_id : job.type;

/** A queue that notes every message sent and, with `forward`, hands it on to the real queue. */
function recordingQueue(forward: boolean) {
  const sent: JobMessage[] = [];
  const queue = {
    send: async (message: JobMessage) => {
      // Comparisons (change detection, test/jobs/compare.test.ts) of this file's captures go on as usual.
      if (message.type === "compare") return env.JOBS.send(message);
      sent.push(message);
      if (forward) await env.JOBS.send(message);
    },
    sendBatch: async (messages: { body: JobMessage }[]) => {
      sent.push(...messages.map((m) => m.body));
      if (forward) await env.JOBS.sendBatch(messages);
    },
  } as unknown as Queue;
  return { queue, sent };
}

/**
 * The account's timers at `now` (what its alarm does then: the sweep first), with the jobs it
 * sends going to `queues` (its own queue when not given).
 */
async function sweep(acc: TestAccount, now: number, queues: ObjectQueues = {}) {
  await objectQueues(acc.id, queues);
  try {
    return await accountObject(acc.id).wake(acc.id, now);
  } finally {
    await objectQueues(acc.id, {});
  }
}

interface ShotRow {
  status: string;
  source: string;
  error: string | null;
  attempts: number;
  started_at: number | null;
  updated_at: number;
}
const shotRow = async (acc: TestAccount, id: string) =>
  (
    await accountSql<ShotRow & Record<string, SqlStorageValue>>(acc.id, "SELECT * FROM screenshots WHERE id = ?", id)
  )[0] as ShotRow;

interface RunRow {
  status: string;
  error: string | null;
  attempts: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
  duration_ms: number | null;
}
const runRow = async (acc: TestAccount, id: string) =>
  (
    await accountSql<RunRow & Record<string, SqlStorageValue>>(acc.id, "SELECT * FROM runs WHERE id = ?", id)
  )[0] as RunRow;

/** The API while the queue loses every message: rows are written, their jobs never arrive. */
async function lossy(acc: TestAccount, path: string, init: RequestInit) {
  await objectQueues(acc.id, { JOBS: lostQueue });
  try {
    const res = await call(path, init);
    expect(res.status, await res.clone().text()).toBe(202);
    return res;
  } finally {
    await objectQueues(acc.id, {});
  }
}

async function lostCapture(acc: TestAccount, websiteId: string) {
  return body<ShotView>(await lossy(acc, "/v1/screenshots", jsonInit("POST", { website_id: websiteId }, acc.auth)));
}

async function lostRun(acc: TestAccount, scenarioId: string) {
  return body<RunView>(await lossy(acc, `/v1/scenarios/${scenarioId}/run`, { method: "POST", headers: acc.auth }));
}

/**
 * A consumer killed mid-way: it takes the job and claims the row, then hangs getting a
 * browser, as a worker that died there. Its message is not on the real queue, so nothing
 * redelivers it. After the test the hung call is let go (its browser fails, it tries to
 * put the row back) — by then the row is no longer its own.
 */
const hung: (() => Promise<void>)[] = [];
async function killMidWay(acc: TestAccount, job: JobMessage) {
  let wake!: () => void;
  const asleep = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const browser = {
    fetch: async () => {
      await asleep;
      throw new Error("the worker is gone");
    },
  } as unknown as Fetcher;
  const batch = createMessageBatch<JobMessage>("snaptrack-jobs", [
    { id: `killed-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: job },
  ]);
  const running = handleQueue(batch, { ...env, BROWSER: browser }, createExecutionContext());
  hung.push(async () => {
    wake();
    await running;
  });
  const [table, id, claimed] =
    job.type === "run"
      ? ["runs", job.run_id, "running"]
      : ["screenshots", (job as { screenshot_id: string }).screenshot_id, "processing"];
  await vi.waitFor(
    async () => {
      const [row] = await accountSql<{ status: string }>(acc.id, `SELECT status FROM ${table} WHERE id = ?`, id);
      if (row?.status !== claimed) throw new Error(`still ${row?.status}`);
    },
    { timeout: 10_000, interval: 50 },
  );
}

afterEach(async () => {
  for (let release = hung.pop(); release; release = hung.pop()) await release();
});

async function websiteRow(acc: TestAccount, id: string): Promise<Website> {
  return (await inAccount(acc.id, (db) => db.select().from(websites).where(eq(websites.id, id)).get())) as Website;
}

async function expectRedPage(acc: TestAccount, id: string) {
  const png = await decodePng(await downloadBytes(acc, id));
  expect(near(png.at(50, 50), RED)).toBe(true);
}

describe("crash sweeper: lost messages", () => {
  it("sends a queued screenshot's lost job again past its deadline; the capture completes end to end", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await lostCapture(acc, site.id);
    const queued = await shotRow(acc, shot.id);
    expect(queued).toMatchObject({ status: "queued", attempts: 0 });

    await sweep(acc, queued.updated_at + LOST_MESSAGE); // at the deadline, not past it
    expect(await shotRow(acc, shot.id)).toEqual(queued);

    await sweep(acc, queued.updated_at + LOST_MESSAGE + 1);
    const done = await settled(acc, shot.id);
    expect(done).toMatchObject({ status: "completed", error: null, width: 1280, height: 800, format: "png" });
    await expectRedPage(acc, shot.id);
    expect((await shotRow(acc, shot.id)).attempts).toBe(1);
  });

  it("sends a queued run's lost job again past its deadline; the run executes", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "look",
      steps: [{ action: "screenshot", name: "page" }],
    });
    const run = await lostRun(acc, scenario.id);
    const queued = await runRow(acc, run.id);
    expect(queued).toMatchObject({ status: "queued", attempts: 0 });

    await sweep(acc, queued.updated_at + LOST_MESSAGE);
    expect(await runRow(acc, run.id)).toEqual(queued);

    await sweep(acc, queued.updated_at + LOST_MESSAGE + 1);
    const done = await runSettled(acc, run.id);
    expect(done).toMatchObject({ status: "passed", error: null });
    expect(done.steps).toMatchObject([{ index: 0, action: "screenshot", status: "passed" }]);
    const page = done.steps[0]?.screenshot_id as string;
    expect(await shotRow(acc, page)).toMatchObject({ status: "completed", source: "scenario" });
    await expectRedPage(acc, page);
    expect((await runRow(acc, run.id)).attempts).toBe(1);
  });

  it("fails a queued screenshot whose attempts are used up instead of sending it again", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await lostCapture(acc, site.id);
    await accountSql(acc.id, "UPDATE screenshots SET attempts = ? WHERE id = ?", MAX_DELIVERIES, shot.id);
    const queued = await shotRow(acc, shot.id);
    const recorder = recordingQueue(false);
    const woken = await sweep(acc, queued.updated_at + LOST_MESSAGE + 1, { JOBS: recorder.queue });
    expect(woken.swept).toEqual({ requeued: 0, ended: 1 });
    expect(recorder.sent).toEqual([]);
    expect(await shotRow(acc, shot.id)).toMatchObject({ status: "failed", error: CAPTURE_LOST });
  });
});

describe("crash sweeper: work killed mid-way", () => {
  it("puts a screenshot whose worker died back in the queue while attempts remain; it completes", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await lostCapture(acc, site.id);
    await killMidWay(acc, { type: "capture", screenshot_id: shot.id, account_id: acc.id });
    const claimed = await shotRow(acc, shot.id);
    expect(claimed).toMatchObject({ status: "processing", attempts: 1 });
    const startedAt = claimed.started_at as number;

    await sweep(acc, startedAt + STALE_CLAIM); // at the deadline, not past it
    expect(await shotRow(acc, shot.id)).toEqual(claimed);

    await sweep(acc, startedAt + STALE_CLAIM + 1);
    const done = await settled(acc, shot.id);
    expect(done).toMatchObject({ status: "completed", error: null, width: 1280 });
    await expectRedPage(acc, shot.id);
    expect((await shotRow(acc, shot.id)).attempts).toBe(2);
  });

  it("fails a screenshot killed on every attempt as interrupted once its attempts are used up", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await lostCapture(acc, site.id);
    for (let attempt = 1; attempt <= MAX_DELIVERIES; attempt++) {
      await killMidWay(acc, { type: "capture", screenshot_id: shot.id, account_id: acc.id });
      const claimed = await shotRow(acc, shot.id);
      expect(claimed).toMatchObject({ status: "processing", attempts: attempt });
      // The job the sweeper sends is lost as well: the next attempt is the next kill.
      await sweep(acc, (claimed.started_at as number) + STALE_CLAIM + 1, { JOBS: lostQueue });
      const after = await shotRow(acc, shot.id);
      if (attempt < MAX_DELIVERIES) expect(after).toMatchObject({ status: "queued", error: CAPTURE_RETRY });
      else expect(after).toMatchObject({ status: "failed", error: CAPTURE_INTERRUPTED, attempts: MAX_DELIVERIES });
    }
    const view = await body<ShotView>(await call(`/v1/screenshots/${shot.id}`, { headers: acc.auth }));
    expect(view.status).toBe("failed");
    expect(view.error).toMatch(/interrupted/);
  });

  it("ends a running run past its deadline `error` as interrupted, fails its screenshot, never runs it again", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "look",
      steps: [{ action: "screenshot", name: "page" }],
    });
    const run = await lostRun(acc, scenario.id);
    await killMidWay(acc, { type: "run", run_id: run.id, account_id: acc.id });
    const running = await runRow(acc, run.id);
    expect(running).toMatchObject({ status: "running", attempts: 1 });
    const startedAt = running.started_at as number;
    // The screenshot its first step was taking when the worker died (as the runner writes it).
    const half = screenshotRow(
      {
        website: await websiteRow(acc, site.id),
        source: "scenario",
        status: "processing",
        runId: run.id,
        name: "page",
        stepIndex: 0,
      },
      startedAt,
    );
    await inAccount(acc.id, (db) => db.insert(screenshots).values({ ...half, attempts: 1, startedAt }));
    const halfBefore = await shotRow(acc, half.id);

    const deadline = runDeadline(startedAt, DEFAULT_RUN_TIMEOUT_MS);
    for (const at of [startedAt + STALE_CLAIM + 1, deadline]) {
      await sweep(acc, at); // the screenshot is the run's: it waits for the run's deadline
      expect(await runRow(acc, run.id)).toEqual(running);
      expect(await shotRow(acc, half.id)).toEqual(halfBefore);
    }

    await sweep(acc, deadline + 1);
    expect(await runRow(acc, run.id)).toMatchObject({
      status: "error",
      error: RUN_INTERRUPTED,
      attempts: 1,
      finished_at: deadline + 1,
      duration_ms: deadline + 1 - startedAt,
    });
    expect(await shotRow(acc, half.id)).toMatchObject({ status: "failed", error: RUN_SHOT_INTERRUPTED });
    const view = await body<RunView>(await call(`/v1/runs/${run.id}`, { headers: acc.auth }));
    expect(view.status).toBe("error");
    expect(view.error).toMatch(/interrupted/);

    // Neither the hung worker waking up nor a late delivery of its job runs it again.
    await hung.pop()?.();
    const late = createMessageBatch<JobMessage>("snaptrack-jobs", [
      { id: "late", timestamp: new Date(), attempts: 2, body: { type: "run", run_id: run.id, account_id: acc.id } },
    ]);
    const ctx = createExecutionContext();
    await handleQueue(late, env, ctx);
    expect((await getQueueResult(late, ctx)).explicitAcks).toEqual(["late"]);
    expect(await runRow(acc, run.id)).toMatchObject({ status: "error", error: RUN_INTERRUPTED, attempts: 1 });
  });
});

describe("crash sweeper: deadlines, overlap and bounds", () => {
  it("leaves rows alone until their deadline: nothing changes and nothing is sent", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "wait",
      steps: [{ action: "wait", ms: 10 }],
    });
    const queuedShot = await lostCapture(acc, site.id);
    const killedShot = await lostCapture(acc, site.id);
    await killMidWay(acc, { type: "capture", screenshot_id: killedShot.id, account_id: acc.id });
    const queuedRun = await lostRun(acc, scenario.id);
    const killedRun = await lostRun(acc, scenario.id);
    await killMidWay(acc, { type: "run", run_id: killedRun.id, account_id: acc.id });
    const rows = async () => ({
      shots: [await shotRow(acc, queuedShot.id), await shotRow(acc, killedShot.id)],
      runs: [await runRow(acc, queuedRun.id), await runRow(acc, killedRun.id)],
    });
    const before = await rows();
    const deadlines = [
      (before.shots[0] as ShotRow).updated_at + LOST_MESSAGE,
      ((before.shots[1] as ShotRow).started_at as number) + STALE_CLAIM,
      (before.runs[0] as RunRow).updated_at + LOST_MESSAGE,
      runDeadline((before.runs[1] as RunRow).started_at as number, DEFAULT_RUN_TIMEOUT_MS),
    ];
    const first = Math.min(...deadlines);
    const recorder = recordingQueue(false);
    for (const at of [Date.now(), first - MINUTE, first]) await sweep(acc, at, { JOBS: recorder.queue });
    expect(recorder.sent).toEqual([]);
    expect(await rows()).toEqual(before);

    // Past every deadline: the queued jobs and the killed capture are sent, the killed run ends.
    const forwarded = recordingQueue(true);
    await sweep(acc, Math.max(...deadlines) + 1, { JOBS: forwarded.queue });
    expect(forwarded.sent.map(jobId).sort()).toEqual([queuedShot.id, killedShot.id, queuedRun.id].sort());
    expect(await runRow(acc, killedRun.id)).toMatchObject({ status: "error", error: RUN_INTERRUPTED });
    expect((await settled(acc, queuedShot.id)).status).toBe("completed");
    expect((await settled(acc, killedShot.id)).status).toBe("completed");
    expect((await runSettled(acc, queuedRun.id)).status).toBe("passed");
  });

  it("two sweeps at the same time send each job once", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "wait",
      steps: [{ action: "wait", ms: 10 }],
    });
    const lost = await lostCapture(acc, site.id);
    const killed = await lostCapture(acc, site.id);
    await killMidWay(acc, { type: "capture", screenshot_id: killed.id, account_id: acc.id });
    const run = await lostRun(acc, scenario.id);
    const now =
      Math.max((await shotRow(acc, lost.id)).updated_at, (await runRow(acc, run.id)).updated_at) + LOST_MESSAGE + 1;
    const recorder = recordingQueue(true);
    // The alarm and the cron's backstop at once: two wake-ups of the account's object at the same time.
    await objectQueues(acc.id, { JOBS: recorder.queue });
    const object = accountObject(acc.id);
    const woken = await Promise.all([object.wake(acc.id, now), object.wake(acc.id, now)]);
    await objectQueues(acc.id, {});
    expect(recorder.sent.map(jobId).sort()).toEqual([lost.id, killed.id, run.id].sort());
    expect(woken.map((w) => w.swept.requeued).reduce((a, b) => a + b)).toBe(3);
    expect((await settled(acc, lost.id)).status).toBe("completed");
    expect((await settled(acc, killed.id)).status).toBe("completed");
    expect((await runSettled(acc, run.id)).status).toBe("passed");
    expect((await shotRow(acc, lost.id)).attempts).toBe(1);
    expect((await shotRow(acc, killed.id)).attempts).toBe(2);
    expect((await runRow(acc, run.id)).attempts).toBe(1);
  });

  it("handles at most SWEEP_BATCH rows of a kind per pass and goes on a moment later", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const website = await websiteRow(acc, site.id);
    const lostAt = Date.now();
    const rows = Array.from({ length: SWEEP_BATCH + 7 }, (_, i) =>
      screenshotRow({ website, source: "api" }, lostAt + i),
    );
    // SQLite in a Durable Object binds at most 100 parameters a statement: 2 rows of 36 columns.
    await inAccount(acc.id, async (db) => {
      for (let i = 0; i < rows.length; i += 2) await db.insert(screenshots).values(rows.slice(i, i + 2));
    });
    const ids = rows.map((r) => r.id);

    // At `now` every row but the newest has lost its message.
    const now = lostAt + rows.length - 1 + LOST_MESSAGE;
    const first = recordingQueue(false);
    const before = Date.now();
    const woken = await sweep(acc, now, { JOBS: first.queue });
    const after = Date.now();
    // The oldest SWEEP_BATCH; the alarm is set to go on with the rest a second later (not
    // RECHECK_IN, a minute, as when nothing more could be done).
    expect(first.sent.map(jobId).sort()).toEqual(ids.slice(0, SWEEP_BATCH).sort());
    expect(woken.swept).toEqual({ requeued: SWEEP_BATCH, ended: 0 });
    const next = woken.next as number;
    expect(next).toBeGreaterThan(now);
    expect(next).toBeLessThanOrEqual(now + 1_000);
    // The alarm is that far ahead on the real clock (the test's clock is far in the future).
    const alarm = (await inAccount(acc.id, (_db, _object, state) => state.storage.getAlarm())) as number;
    expect(alarm).toBeGreaterThanOrEqual(before + (next - now));
    expect(alarm).toBeLessThanOrEqual(after + (next - now));

    // When that alarm fires: the rest, the newest one included now that it is lost too.
    const second = recordingQueue(false);
    expect((await sweep(acc, next, { JOBS: second.queue })).swept).toEqual({ requeued: 7, ended: 0 });
    expect(second.sent.map(jobId).sort()).toEqual(ids.slice(SWEEP_BATCH).sort());

    // Done with them: none of these is captured (nothing was delivered).
    await accountSql(
      acc.id,
      "UPDATE screenshots SET status = 'failed', error = 'test cleanup' WHERE website_id = ?",
      site.id,
    );
  });
});
