import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { screenshots, websites } from "../../src/db/schema";
import { jobCompletions } from "../../src/queue/completion";
import { screenshotRow } from "../../src/services/screenshots";
import { createWebsite, FIXTURE, newAccount } from "../helpers";

/** A queued screenshot row no consumer will ever see (no job is sent). */
async function queuedRow() {
  const acc = await newAccount("business");
  const site = await createWebsite(acc, `${FIXTURE()}/colors`);
  const db = getDb(env.DB);
  const website = await db.select().from(websites).where(eq(websites.id, site.id)).get();
  if (!website) throw new Error("no website");
  const row = screenshotRow({ website, source: "api" }, Date.now());
  await db.insert(screenshots).values(row);
  return { db, row };
}

describe("JobWatch: waiting for a job without polling", () => {
  const completions = jobCompletions(env.JOB_WATCH);

  it("wakes a waiter when the job's end is announced, and times out without it", async () => {
    const { row } = await queuedRow();
    expect(await completions.wait(row.accountId, "screenshot", row.id, 50)).toBe(false);

    const waiting = completions.wait(row.accountId, "screenshot", row.id, 20_000);
    // Once the waiter has registered (a later call has come back), only the notice can wake
    // it: the row stays queued, so without it the wait ends false at its deadline.
    await completions.wait(row.accountId, "screenshot", row.id, 50);
    await completions.notify(row.accountId, row.id);
    expect(await waiting).toBe(true);
  });

  it("sees a job that finished before the wait began (the row is read after subscribing)", async () => {
    const { db, row } = await queuedRow();
    await db.update(screenshots).set({ status: "failed", error: "x" }).where(eq(screenshots.id, row.id));
    // No notification will come; a 60 s deadline would answer false only after it.
    expect(await completions.wait(row.accountId, "screenshot", row.id, 60_000)).toBe(true);
  });
});
