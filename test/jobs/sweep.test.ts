import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { screenshots, type Website, websites } from "../../src/db/schema";
import worker from "../../src/index";
import { STALE_CLAIM } from "../../src/jobs/capture";
import { handleQueue } from "../../src/jobs/consumer";
import { EVERY_MINUTE } from "../../src/jobs/cron";
import { RUN_INTERRUPTED, runDeadline } from "../../src/jobs/run";
import {
  CAPTURE_INTERRUPTED,
  CAPTURE_LOST,
  CAPTURE_RETRY,
  LOST_MESSAGE,
  RUN_SHOT_INTERRUPTED,
  SWEEP_BATCH,
} from "../../src/jobs/sweep";
import { MINUTE } from "../../src/lib/clock";
import { DEFAULT_RUN_TIMEOUT_MS } from "../../src/lib/values";
import type { JobMessage } from "../../src/queue/messages";
import { MAX_DELIVERIES } from "../../src/queue/messages";
import { screenshotRow } from "../../src/services/screenshots";
import {
  appWith,
  body,
  call,
  createScenario,
  createWebsite,
  downloadBytes,
  FIXTURE,
  jsonInit,
  newAccount,
  type RunView,
  runSettled,
  type ShotView,
  settled,
  type TestAccount,
} from "../helpers";
import { decodePng, near, RED } from "../png";

// The sweeper looks at every row in the database: each test leaves its rows finished, so
// the next one's sweeps find only its own.

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

/** The minute cron at `now`, through the Worker's scheduled handler (the sweeper runs first). */
async function minuteCron(now: number, bindings: Partial<Env> = {}) {
  await worker.scheduled(
    createScheduledController({ cron: EVERY_MINUTE, scheduledTime: now }),
    { ...env, ...bindings },
    createExecutionContext(),
  );
}

interface ShotRow {
  status: string;
  source: string;
  error: string | null;
  attempts: number;
  started_at: number | null;
  updated_at: number;
}
const shotRow = async (id: string) =>
  (await env.DB.prepare("SELECT * FROM screenshots WHERE id = ?").bind(id).first<ShotRow>()) as ShotRow;

interface RunRow {
  status: string;
  error: string | null;
  attempts: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
  duration_ms: number | null;
}
const runRow = async (id: string) =>
  (await env.DB.prepare("SELECT * FROM runs WHERE id = ?").bind(id).first<RunRow>()) as RunRow;

/** The API while the queue loses every message: rows are written, their jobs never arrive. */
const lossy = appWith({}, { JOBS: lostQueue });

async function lostCapture(acc: TestAccount, websiteId: string) {
  const res = await lossy("/v1/screenshots", jsonInit("POST", { website_id: websiteId }, acc.auth));
  expect(res.status, await res.clone().text()).toBe(202);
  return body<ShotView>(res);
}

async function lostRun(acc: TestAccount, scenarioId: string) {
  const res = await lossy(`/v1/scenarios/${scenarioId}/run`, { method: "POST", headers: acc.auth });
  expect(res.status, await res.clone().text()).toBe(202);
  return body<RunView>(res);
}

/**
 * A consumer killed mid-way: it takes the job and claims the row, then hangs getting a
 * browser, as a worker that died there. Its message is not on the real queue, so nothing
 * redelivers it. After the test the hung call is let go (its browser fails, it tries to
 * put the row back) — by then the row is no longer its own.
 */
const hung: (() => Promise<void>)[] = [];
async function killMidWay(job: JobMessage) {
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
      const row = await env.DB.prepare(`SELECT status FROM ${table} WHERE id = ?`).bind(id).first<{ status: string }>();
      if (row?.status !== claimed) throw new Error(`still ${row?.status}`);
    },
    { timeout: 10_000, interval: 50 },
  );
}

afterEach(async () => {
  for (let release = hung.pop(); release; release = hung.pop()) await release();
});

async function websiteRow(id: string): Promise<Website> {
  return (await getDb(env.DB).select().from(websites).where(eq(websites.id, id)).get()) as Website;
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
    const queued = await shotRow(shot.id);
    expect(queued).toMatchObject({ status: "queued", attempts: 0 });

    await minuteCron(queued.updated_at + LOST_MESSAGE); // at the deadline, not past it
    expect(await shotRow(shot.id)).toEqual(queued);

    await minuteCron(queued.updated_at + LOST_MESSAGE + 1);
    const done = await settled(acc, shot.id);
    expect(done).toMatchObject({ status: "completed", error: null, width: 1280, height: 800, format: "png" });
    await expectRedPage(acc, shot.id);
    expect((await shotRow(shot.id)).attempts).toBe(1);
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
    const queued = await runRow(run.id);
    expect(queued).toMatchObject({ status: "queued", attempts: 0 });

    await minuteCron(queued.updated_at + LOST_MESSAGE);
    expect(await runRow(run.id)).toEqual(queued);

    await minuteCron(queued.updated_at + LOST_MESSAGE + 1);
    const done = await runSettled(acc, run.id);
    expect(done).toMatchObject({ status: "passed", error: null });
    expect(done.steps).toMatchObject([{ index: 0, action: "screenshot", status: "passed" }]);
    const page = done.steps[0]?.screenshot_id as string;
    expect(await shotRow(page)).toMatchObject({ status: "completed", source: "scenario" });
    await expectRedPage(acc, page);
    expect((await runRow(run.id)).attempts).toBe(1);
  });

  it("fails a queued screenshot whose attempts are used up instead of sending it again", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await lostCapture(acc, site.id);
    await env.DB.prepare("UPDATE screenshots SET attempts = ? WHERE id = ?").bind(MAX_DELIVERIES, shot.id).run();
    const queued = await shotRow(shot.id);
    const recorder = recordingQueue(false);
    await minuteCron(queued.updated_at + LOST_MESSAGE + 1, { JOBS: recorder.queue });
    expect(recorder.sent).toEqual([]);
    expect(await shotRow(shot.id)).toMatchObject({ status: "failed", error: CAPTURE_LOST });
  });
});

describe("crash sweeper: work killed mid-way", () => {
  it("puts a screenshot whose worker died back in the queue while attempts remain; it completes", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await lostCapture(acc, site.id);
    await killMidWay({ type: "capture", screenshot_id: shot.id, account_id: acc.id });
    const claimed = await shotRow(shot.id);
    expect(claimed).toMatchObject({ status: "processing", attempts: 1 });
    const startedAt = claimed.started_at as number;

    await minuteCron(startedAt + STALE_CLAIM); // at the deadline, not past it
    expect(await shotRow(shot.id)).toEqual(claimed);

    await minuteCron(startedAt + STALE_CLAIM + 1);
    const done = await settled(acc, shot.id);
    expect(done).toMatchObject({ status: "completed", error: null, width: 1280 });
    await expectRedPage(acc, shot.id);
    expect((await shotRow(shot.id)).attempts).toBe(2);
  });

  it("fails a screenshot killed on every attempt as interrupted once its attempts are used up", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const shot = await lostCapture(acc, site.id);
    for (let attempt = 1; attempt <= MAX_DELIVERIES; attempt++) {
      await killMidWay({ type: "capture", screenshot_id: shot.id, account_id: acc.id });
      const claimed = await shotRow(shot.id);
      expect(claimed).toMatchObject({ status: "processing", attempts: attempt });
      // The job the sweeper sends is lost as well: the next attempt is the next kill.
      await minuteCron((claimed.started_at as number) + STALE_CLAIM + 1, { JOBS: lostQueue });
      const after = await shotRow(shot.id);
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
    await killMidWay({ type: "run", run_id: run.id, account_id: acc.id });
    const running = await runRow(run.id);
    expect(running).toMatchObject({ status: "running", attempts: 1 });
    const startedAt = running.started_at as number;
    // The screenshot its first step was taking when the worker died (as the runner writes it).
    const half = screenshotRow(
      {
        website: await websiteRow(site.id),
        source: "scenario",
        status: "processing",
        runId: run.id,
        name: "page",
        stepIndex: 0,
      },
      startedAt,
    );
    await getDb(env.DB)
      .insert(screenshots)
      .values({ ...half, attempts: 1, startedAt });
    const halfBefore = await shotRow(half.id);

    const deadline = runDeadline(startedAt, DEFAULT_RUN_TIMEOUT_MS);
    for (const at of [startedAt + STALE_CLAIM + 1, deadline]) {
      await minuteCron(at); // the screenshot is the run's: it waits for the run's deadline
      expect(await runRow(run.id)).toEqual(running);
      expect(await shotRow(half.id)).toEqual(halfBefore);
    }

    await minuteCron(deadline + 1);
    expect(await runRow(run.id)).toMatchObject({
      status: "error",
      error: RUN_INTERRUPTED,
      attempts: 1,
      finished_at: deadline + 1,
      duration_ms: deadline + 1 - startedAt,
    });
    expect(await shotRow(half.id)).toMatchObject({ status: "failed", error: RUN_SHOT_INTERRUPTED });
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
    expect(await runRow(run.id)).toMatchObject({ status: "error", error: RUN_INTERRUPTED, attempts: 1 });
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
    await killMidWay({ type: "capture", screenshot_id: killedShot.id, account_id: acc.id });
    const queuedRun = await lostRun(acc, scenario.id);
    const killedRun = await lostRun(acc, scenario.id);
    await killMidWay({ type: "run", run_id: killedRun.id, account_id: acc.id });
    const rows = async () => ({
      shots: [await shotRow(queuedShot.id), await shotRow(killedShot.id)],
      runs: [await runRow(queuedRun.id), await runRow(killedRun.id)],
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
    for (const at of [Date.now(), first - MINUTE, first]) await minuteCron(at, { JOBS: recorder.queue });
    expect(recorder.sent).toEqual([]);
    expect(await rows()).toEqual(before);

    // Past every deadline: the queued jobs and the killed capture are sent, the killed run ends.
    const forwarded = recordingQueue(true);
    await minuteCron(Math.max(...deadlines) + 1, { JOBS: forwarded.queue });
    expect(forwarded.sent.map(jobId).sort()).toEqual([queuedShot.id, killedShot.id, queuedRun.id].sort());
    expect(await runRow(killedRun.id)).toMatchObject({ status: "error", error: RUN_INTERRUPTED });
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
    await killMidWay({ type: "capture", screenshot_id: killed.id, account_id: acc.id });
    const run = await lostRun(acc, scenario.id);
    const now = Math.max((await shotRow(lost.id)).updated_at, (await runRow(run.id)).updated_at) + LOST_MESSAGE + 1;
    const recorder = recordingQueue(true);
    await Promise.all([minuteCron(now, { JOBS: recorder.queue }), minuteCron(now, { JOBS: recorder.queue })]);
    expect(recorder.sent.map(jobId).sort()).toEqual([lost.id, killed.id, run.id].sort());
    expect((await settled(acc, lost.id)).status).toBe("completed");
    expect((await settled(acc, killed.id)).status).toBe("completed");
    expect((await runSettled(acc, run.id)).status).toBe("passed");
    expect((await shotRow(lost.id)).attempts).toBe(1);
    expect((await shotRow(killed.id)).attempts).toBe(2);
    expect((await runRow(run.id)).attempts).toBe(1);
  });

  it("handles at most SWEEP_BATCH rows of a kind per pass and continues on the queue", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const website = await websiteRow(site.id);
    const lostAt = Date.now();
    const rows = Array.from({ length: SWEEP_BATCH + 7 }, (_, i) =>
      screenshotRow({ website, source: "api" }, lostAt + i),
    );
    const db = getDb(env.DB);
    // D1 binds at most 100 parameters a statement: 3 rows of 32 columns.
    for (let i = 0; i < rows.length; i += 3) await db.insert(screenshots).values(rows.slice(i, i + 3));
    const ids = rows.map((r) => r.id);

    // At `now` every row but the newest has lost its message.
    const now = lostAt + rows.length - 1 + LOST_MESSAGE;
    const first = recordingQueue(false);
    await minuteCron(now, { JOBS: first.queue });
    // The oldest SWEEP_BATCH, then a continuation for the rest.
    expect(first.sent).toHaveLength(SWEEP_BATCH + 1);
    expect(first.sent.slice(0, -1).map(jobId).sort()).toEqual(ids.slice(0, SWEEP_BATCH).sort());
    expect(first.sent.at(-1)).toEqual({ type: "sweep", round: 1 });

    const second = recordingQueue(false);
    await minuteCron(now, { JOBS: second.queue });
    expect(second.sent.map(jobId).sort()).toEqual(ids.slice(SWEEP_BATCH, -1).sort());

    // Done with them: none of these is captured (nothing was delivered).
    await db
      .update(screenshots)
      .set({ status: "failed", error: "test cleanup" })
      .where(eq(screenshots.websiteId, site.id));
  });
});
