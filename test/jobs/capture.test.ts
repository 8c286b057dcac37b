import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { websitePrefix } from "../../src/capture/keys";
import { MAX_CAPTURE_HEIGHT_PX } from "../../src/capture/page";
import { runs, scenarios, screenshots, websites } from "../../src/db/schema";
import { handleQueue } from "../../src/jobs/consumer";
import type { JobMessage } from "../../src/queue/messages";
import { MAX_DELIVERIES } from "../../src/queue/messages";
import { runRow } from "../../src/services/runs";
import { screenshotRow } from "../../src/services/screenshots";
import { accountSql, captureOf, createWebsite, FIXTURE, inAccount, newAccount, type TestAccount } from "../helpers";

/** A screenshot row written directly in the account's database (no queue message), for driving the consumer by hand. */
async function queuedRow(acc: TestAccount, url: string, capture: Record<string, unknown> = {}) {
  const site = await createWebsite(acc, url, capture);
  return inAccount(acc.id, async (db) => {
    const website = await db.select().from(websites).where(eq(websites.id, site.id)).get();
    const row = screenshotRow({ website: website as NonNullable<typeof website>, source: "api" }, Date.now());
    await db.insert(screenshots).values(row);
    return row;
  });
}

async function deliver(queue: string, id: string, job: JobMessage, attempts: number, bindings: Partial<Env> = {}) {
  const batch = createMessageBatch<JobMessage>(queue, [{ id, timestamp: new Date(), attempts, body: job }]);
  // The test batch does not report retry delays, so note them on the way through.
  const delays: (number | undefined)[] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.push(options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await handleQueue(batch, { ...env, ...bindings }, ctx);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

const rowOf = async (acc: TestAccount, id: string) =>
  (
    await accountSql<{ status: string; error: string | null; attempts: number; r2_key: string | null }>(
      acc.id,
      "SELECT status, error, attempts, r2_key FROM screenshots WHERE id = ?",
      id,
    )
  )[0];

async function r2Count(prefix: string) {
  return (await env.SHOTS.list({ prefix })).objects.length;
}

describe("capture failures end `failed` with a readable error", () => {
  it("an HTTP error status of the target", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/status?code=404`);
    expect(shot.status).toBe("failed");
    expect(shot.error).toMatch(/HTTP 404/);
  });

  it("a navigation error (name does not resolve)", async () => {
    const acc = await newAccount("business");
    const port = new URL(FIXTURE()).port;
    const shot = await captureOf(acc, `http://public.test:${port}/`);
    expect(shot.status).toBe("failed");
    expect(shot.error).toMatch(/^DNS lookup failed: public\.test:\d+ could not be found/);
  });

  it("a page that never finishes loading, after timeout_ms", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/hang`, { timeout_ms: 2000 });
    expect(shot.status).toBe("failed");
    expect(shot.error).toMatch(/timed out/i);
  });

  it("a clip selector or wait_for_selector that matches nothing", async () => {
    const acc = await newAccount("business");
    const clip = await captureOf(acc, `${FIXTURE()}/colors`, { selector: "#nope" });
    expect(clip).toMatchObject({ status: "failed", error: 'No element matches selector "#nope"' });
    const wait = await captureOf(acc, `${FIXTURE()}/colors`, { wait_for_selector: "#never", timeout_ms: 1500 });
    expect(wait.status).toBe("failed");
    expect(wait.error).toMatch(/#never.*1500 ms/);
  });
});

describe("platform failures retry with backoff, then dead-letter and fail", () => {
  const brokenBrowser = {
    fetch: async () => new Response("browser pool exhausted", { status: 503 }),
  } as unknown as Fetcher;

  it("an unavailable browser sends the job back to queued with a growing delay", async () => {
    const acc = await newAccount("business");
    const row = await queuedRow(acc, `${FIXTURE()}/colors`);
    const job: JobMessage = { type: "capture", screenshot_id: row.id, account_id: acc.id };
    const first = await deliver("snaptrack-jobs", "m1", job, 1, { BROWSER: brokenBrowser });
    expect(first.retryMessages).toEqual([{ msgId: "m1" }]);
    expect(first.delays).toEqual([10]);
    expect(await rowOf(acc, row.id)).toMatchObject({
      status: "queued",
      attempts: 1,
      error: expect.stringMatching(/^Retrying: Browser unavailable/),
    });
    const third = await deliver("snaptrack-jobs", "m1", job, 3, { BROWSER: brokenBrowser });
    expect(third.delays).toEqual([40]);

    // After the last delivery the queue dead-letters it; the DLQ consumer fails the row.
    const last = await deliver("snaptrack-jobs", "m1", job, MAX_DELIVERIES, { BROWSER: brokenBrowser });
    expect(last.retryMessages).toHaveLength(1);
    const dlq = await deliver("snaptrack-jobs-dlq", "m1", job, 1);
    expect(dlq.explicitAcks).toEqual(["m1"]);
    const final = await rowOf(acc, row.id);
    expect(final?.status).toBe("failed");
    expect(final?.error).toMatch(/^Gave up after 3 attempts: Browser unavailable/);
  });

  it("options the browser refuses (invalid characters) fail at once with the reason, never retried", async () => {
    const acc = await newAccount("business");
    // Written directly: the API refuses such values when they are stored.
    for (const bad of [{ user_agent: "evil\r\nX-Injected: 1" }, { headers: { "X-Test": "a\r\nb" } }]) {
      const row = await queuedRow(acc, `${FIXTURE()}/colors`);
      const options = { ...JSON.parse(row.options), ...bad };
      await accountSql(acc.id, "UPDATE screenshots SET options = ? WHERE id = ?", JSON.stringify(options), row.id);
      const job: JobMessage = { type: "capture", screenshot_id: row.id, account_id: acc.id };
      const result = await deliver("snaptrack-jobs", "bad", job, 1);
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toEqual(["bad"]);
      expect(await rowOf(acc, row.id)).toMatchObject({ status: "failed", attempts: 1, r2_key: null });
      expect((await rowOf(acc, row.id))?.error).toMatch(/^The browser refused a capture option \(invalid characters\)/);
    }
  });

  it("a page taller than Chromium can capture is clipped to 16,384 px, not failed or retried", async () => {
    const acc = await newAccount("business");
    const one = await captureOf(acc, `${FIXTURE()}/very-tall?h=20000`, { full_page: true });
    expect(one.status, one.error ?? "").toBe("completed");
    expect([one.width, one.height]).toEqual([1280, MAX_CAPTURE_HEIGHT_PX]);
    const two = await captureOf(acc, `${FIXTURE()}/very-tall?h=20000`, {
      full_page: true,
      device_scale_factor: 2,
      viewport: { width: 400, height: 300 },
    });
    expect(two.status, two.error ?? "").toBe("completed");
    expect([two.width, two.height]).toEqual([800, MAX_CAPTURE_HEIGHT_PX]);
    // Below the limit the whole page is taken, as before.
    const whole = await captureOf(acc, `${FIXTURE()}/very-tall?h=3000`, { full_page: true });
    expect(whole.height).toBe(3000);
  });

  it("a message redelivered after success creates nothing twice", async () => {
    const acc = await newAccount("business");
    const shot = await captureOf(acc, `${FIXTURE()}/colors`);
    expect(shot.status).toBe("completed");
    const before = await rowOf(acc, shot.id);
    const prefix = websitePrefix(acc.id, shot.website_id);
    const objects = await r2Count(prefix);
    const again = await deliver(
      "snaptrack-jobs",
      "dup",
      { type: "capture", screenshot_id: shot.id, account_id: acc.id },
      2,
    );
    expect(again.explicitAcks).toEqual(["dup"]);
    expect(await rowOf(acc, shot.id)).toEqual(before);
    expect(await r2Count(prefix)).toBe(objects);
    expect(objects).toBe(3); // the image, its gallery thumbnail and its text
  });

  it("leaves nothing half-written: when the account's database fails after the R2 write, the object is removed and the job retried", async () => {
    const acc = await newAccount("business");
    const row = await queuedRow(acc, `${FIXTURE()}/colors`);
    // The account's database fails only the write completing the row (the one that stores r2_key).
    await accountSql(
      acc.id,
      `CREATE TRIGGER fail_completion BEFORE UPDATE OF r2_key ON screenshots WHEN NEW.r2_key IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END`,
    );
    const result = await deliver(
      "snaptrack-jobs",
      "m2",
      { type: "capture", screenshot_id: row.id, account_id: acc.id },
      1,
    );
    await accountSql(acc.id, "DROP TRIGGER fail_completion");
    expect(result.retryMessages).toHaveLength(1);
    expect(await r2Count(websitePrefix(acc.id, row.websiteId))).toBe(0);
    expect(await rowOf(acc, row.id)).toMatchObject({
      status: "queued",
      r2_key: null,
      error: expect.stringContaining("simulated write failure"),
    });

    // The retry, with the database healthy, completes it.
    const retry = await deliver(
      "snaptrack-jobs",
      "m2",
      { type: "capture", screenshot_id: row.id, account_id: acc.id },
      2,
    );
    expect(retry.explicitAcks).toEqual(["m2"]);
    expect(await rowOf(acc, row.id)).toMatchObject({ status: "completed", attempts: 2 });
    expect(await r2Count(websitePrefix(acc.id, row.websiteId))).toBe(3); // the image, its thumbnail and text
  });

  it("a worker that wakes up after its claim was taken over changes nothing", async () => {
    const acc = await newAccount("business");
    const row = await queuedRow(acc, `${FIXTURE()}/colors`);
    // The first worker claims the row, then hangs getting a browser.
    let wake!: () => void;
    const asleep = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const sleepyBrowser = {
      fetch: async () => {
        await asleep;
        throw new Error("browser pool exhausted");
      },
    } as unknown as Fetcher;
    const job: JobMessage = { type: "capture", screenshot_id: row.id, account_id: acc.id };
    const first = deliver("snaptrack-jobs", "z1", job, 1, { BROWSER: sleepyBrowser });
    await vi.waitFor(
      async () => expect(await rowOf(acc, row.id)).toMatchObject({ status: "processing", attempts: 1 }),
      {
        timeout: 10_000,
        interval: 50,
      },
    );
    // Meanwhile another claim took the row over (attempt 2 is at work).
    await accountSql(acc.id, "UPDATE screenshots SET attempts = 2 WHERE id = ?", row.id);
    wake();
    expect((await first).retryMessages).toEqual([{ msgId: "z1" }]);
    // The sleeper's "back to queued" did not touch attempt 2's row.
    expect(await rowOf(acc, row.id)).toMatchObject({ status: "processing", attempts: 2, error: null });
    await accountSql(acc.id, "UPDATE screenshots SET status = 'failed' WHERE id = ?", row.id);
  });

  it("a screenshot deleted while it was being captured leaves no bytes behind", async () => {
    const acc = await newAccount("business");
    const row = await queuedRow(acc, `${FIXTURE()}/colors`);
    // The image is taken and its upload to R2 has begun: the upload is held until the row is gone.
    const stored: string[] = [];
    let uploading!: () => void;
    const uploadStarted = new Promise<void>((resolve) => {
      uploading = resolve;
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const shots = new Proxy(env.SHOTS, {
      get(target, prop) {
        if (prop === "put")
          return async (key: string, value: Parameters<R2Bucket["put"]>[1], options?: R2PutOptions) => {
            stored.push(key);
            uploading();
            await held;
            return target.put(key, value, options);
          };
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const job: JobMessage = { type: "capture", screenshot_id: row.id, account_id: acc.id };
    const running = deliver("snaptrack-jobs", "m3", job, 1, { SHOTS: shots });
    await Promise.race([
      uploadStarted,
      running.then(() => {
        throw new Error("the job ended before storing anything");
      }),
    ]);
    expect(await rowOf(acc, row.id)).toMatchObject({ status: "processing", attempts: 1 });
    await accountSql(acc.id, "DELETE FROM screenshots WHERE id = ?", row.id);
    release();
    const result = await running;
    expect(result.explicitAcks).toEqual(["m3"]);
    // The image, its thumbnail and its text were written, then deleted again.
    expect(stored).toEqual([expect.stringMatching(/\.png$/), `${stored[0]}.thumb.jpg`, `${stored[0]}.txt`]);
    for (const key of stored) expect(await env.SHOTS.head(key)).toBeNull();
    expect(await r2Count(websitePrefix(acc.id, row.websiteId))).toBe(0);
  });

  it("a scenario run that cannot get a browser is retried, then ends `error` (never stuck)", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const now = Date.now();
    const scenario = {
      id: `scn_${crypto.randomUUID().replace(/-/g, "").slice(0, 26)}`,
      websiteId: site.id,
      name: "s",
      capture: null,
      timeoutMs: 120_000,
      steps: JSON.stringify([{ action: "assert_visible", selector: "#box" }]),
      createdAt: now,
      updatedAt: now,
    };
    const run = runRow(scenario, "api", now);
    await inAccount(acc.id, async (db) => {
      await db.insert(scenarios).values(scenario);
      await db.insert(runs).values(run);
    });
    const job: JobMessage = { type: "run", run_id: run.id, account_id: acc.id };
    const first = await deliver("snaptrack-jobs", "r1", job, 1, { BROWSER: brokenBrowser });
    expect(first.delays).toEqual([10]);
    const [queued] = await accountSql<{ status: string; error: string }>(
      acc.id,
      "SELECT status, error FROM runs WHERE id = ?",
      run.id,
    );
    expect(queued?.status).toBe("queued");
    expect(queued?.error).toMatch(/^Retrying: Browser unavailable/);
    await deliver("snaptrack-jobs-dlq", "r1", job, 1);
    const [ended] = await accountSql<{ status: string; error: string; finished_at: number }>(
      acc.id,
      "SELECT status, error, finished_at FROM runs WHERE id = ?",
      run.id,
    );
    expect(ended?.status).toBe("error");
    expect(ended?.error).toMatch(/^Gave up after 1 attempts: Browser unavailable/);
    expect(ended?.finished_at).toBeGreaterThan(0);
  });
});
