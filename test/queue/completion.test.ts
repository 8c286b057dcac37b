import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { screenshots, websites } from "../../src/db/schema";
import { FINISHED } from "../../src/queue/completion";
import { screenshotRow } from "../../src/services/screenshots";
import { accountObject, accountSql, createWebsite, FIXTURE, inAccount, newAccount } from "../helpers";

/** A queued screenshot row in the account's database that no consumer will ever see (no job is sent). */
async function queuedRow() {
  const acc = await newAccount("business");
  const site = await createWebsite(acc, `${FIXTURE()}/colors`);
  const row = await inAccount(acc.id, async (db) => {
    const website = await db.select().from(websites).where(eq(websites.id, site.id)).get();
    if (!website) throw new Error("no website");
    const row = screenshotRow({ website, source: "api" }, Date.now());
    await db.insert(screenshots).values(row);
    return row;
  });
  return { acc, row };
}

/**
 * Waits for the screenshot in the account's object, as a `Prefer: wait` request does: its
 * waiters, with the row read once after registering.
 */
const waitFor = (accountId: string, id: string, ms: number) =>
  inAccount(accountId, (db, object) =>
    object.scope().completions.wait(
      id,
      async () => {
        const row = await db
          .select({ status: screenshots.status })
          .from(screenshots)
          .where(eq(screenshots.id, id))
          .get();
        return row === undefined || FINISHED.screenshot.includes(row.status);
      },
      ms,
    ),
  );

describe("the account's object: waiting for a job without polling", () => {
  it("wakes a waiter when the job's end is recorded, and times out without it", async () => {
    const { acc, row } = await queuedRow();
    expect(await waitFor(acc.id, row.id, 50)).toBe(false);

    const waiting = waitFor(acc.id, row.id, 20_000);
    // Once the waiter has registered (a later call to the object has come back), only the
    // job's end wakes it: the row is read once, so without it the wait ends false at its deadline.
    expect(await waitFor(acc.id, row.id, 50)).toBe(false);
    // The consumer claims the capture and records its failure: the object wakes its waiters.
    const object = accountObject(acc.id);
    const claim = await object.claimCapture(acc.id, row.id, Date.now());
    expect(claim).toMatchObject({ claimed: { id: row.id, status: "processing", attempts: 1 } });
    await object.failCapture(acc.id, row.id, 1, "The page answered HTTP 500", Date.now());
    expect(await waiting).toBe(true);
    expect(await accountSql(acc.id, "SELECT status FROM screenshots WHERE id = ?", row.id)).toEqual([
      { status: "failed" },
    ]);
  });

  it("sees a job that finished before the wait began (the row is read after subscribing)", async () => {
    const { acc, row } = await queuedRow();
    await accountSql(acc.id, "UPDATE screenshots SET status = 'failed', error = 'x' WHERE id = ?", row.id);
    // No notification will come; a 60 s deadline would answer false only after it.
    expect(await waitFor(acc.id, row.id, 60_000)).toBe(true);
  });
});
