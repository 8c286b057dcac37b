import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { BROWSER_PAGES } from "../../src/capture/browser";
import { type BrowserTask, runBrowserTasks } from "../../src/capture/lanes";
import { handleQueue } from "../../src/jobs/consumer";
import type { JobMessage } from "../../src/queue/messages";
import { appWith, body, createWebsite, FIXTURE, jsonInit, newAccount, type ShotView } from "../helpers";

const tag = () => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const logOf = async (t: string) =>
  (await (await fetch(`${FIXTURE()}/__log?t=${t}`)).json()) as { path: string; headers: Record<string, string> }[];

/** A queue that keeps what is sent, so the test delivers it as one batch. */
function heldQueue() {
  const sent: JobMessage[] = [];
  const queue = {
    send: async (message: JobMessage) => {
      sent.push(message);
    },
    sendBatch: async (messages: { body: JobMessage }[]) => {
      sent.push(...messages.map((m) => m.body));
    },
  } as unknown as Queue;
  return { queue, sent };
}

describe("a batch's captures share one browser, each in a context of its own", () => {
  it("runs N jobs of one batch on N pages at once, and each sends only its own cookies and headers", async () => {
    const { queue, sent } = heldQueue();
    const api = appWith({}, { JOBS: queue });
    const acc = await newAccount("business", api);
    const n = BROWSER_PAGES;
    // Every page asks /together for its document, which answers only once all n are waiting
    // (a page left alone is answered 504 after 15 s, and its capture fails).
    const k = tag();
    const jobs: { i: number; t: string; id: string }[] = [];
    for (let i = 0; i < n; i++) {
      const t = tag();
      const site = await createWebsite(
        acc,
        `${FIXTURE()}/together?k=${k}&n=${n}&t=${t}&wait=15000`,
        { cookies: [{ name: "job", value: `secret-${i}` }], headers: { "X-Job": `job-${i}` } },
        api,
      );
      const res = await api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, acc.auth));
      expect(res.status).toBe(202);
      jobs.push({ i, t, id: (await body<{ id: string }>(res)).id });
    }
    expect(sent).toHaveLength(n);

    const batch = createMessageBatch<JobMessage>(
      "snaptrack-jobs",
      sent.map((job, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body: job })),
    );
    const ctx = createExecutionContext();
    await handleQueue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(n);

    for (const job of jobs) {
      const shot = await body<ShotView>(await api(`/v1/screenshots/${job.id}`, { headers: acc.auth }));
      // Completed: its page met the others at /together (alone, it would have answered 504).
      expect(shot.status, shot.error ?? "").toBe("completed");
      const log = await logOf(job.t);
      expect(log.map((l) => l.path).sort()).toEqual(["/red.png", "/together"]);
      for (const request of log) {
        expect(request.headers.cookie, request.path).toBe(`job=secret-${job.i}`);
        expect(request.headers["x-job"], request.path).toBe(`job-${job.i}`);
      }
    }
  }, 90_000);
});

describe("a job's finishing browser work (thumbnail, text) runs beside the slot's next job", () => {
  it("the next job starts while the last finishes; the browser is kept until every finish is done; storing waits for its finish", async () => {
    const events: string[] = [];
    const gates = new Map<string, () => void>();
    const gate = (name: string) =>
      new Promise<void>((resolve) => {
        gates.set(name, resolve);
      });
    const task = (n: number): BrowserTask => ({
      run: async () => {
        events.push(`run ${n}`);
      },
      finish: async () => {
        events.push(`finish ${n} started`);
        await gate(`finish ${n}`);
        events.push(`finish ${n} done`);
      },
      after: async () => {
        events.push(`after ${n}`);
      },
    });
    let browserFree = false;
    const work = runBrowserTasks([task(1), task(2)], 1).then((r) => {
      browserFree = true;
      return r;
    });
    // One slot: job 2 runs while job 1 is still finishing, and job 1 is not stored before its finish.
    await vi.waitFor(() => expect(events).toContain("run 2"));
    expect(events).toEqual(["run 1", "finish 1 started", "run 2"]);
    gates.get("finish 1")?.();
    await vi.waitFor(() => expect(events).toContain("finish 2 started"));
    expect(events.indexOf("after 1")).toBeGreaterThan(events.indexOf("finish 1 done"));
    expect(browserFree).toBe(false); // job 2's page is still being read
    gates.get("finish 2")?.();
    const { afterwards } = await work;
    await afterwards;
    expect(events.slice(-2)).toEqual(["finish 2 done", "after 2"]);
  });
});
