import { and, asc, inArray, lt, notInArray, sql } from "drizzle-orm";
import { screenshotObjects } from "../capture/keys";
import type { Db } from "../db/client";
import { idempotencyKeys, runs, screenshots, webhookEvents, websites } from "../db/schema";
import { DAY } from "../lib/clock";
import type { Plan } from "../limits/plans";
import { purgeAlerts } from "./alerts";

/** Rows of each kind deleted per pass; a pass that hits the bound asks for another at once. */
export const RETENTION_BATCH = 500;

/** Where the account's history window ends: rows created before it are deleted. */
export const historyStart = (plan: Plan, now: number) => now - plan.historyDays * DAY;

/**
 * One bounded pass over the account's own database, from its alarm: screenshots (R2 bytes,
 * thumbnails and diffs first, then rows — a pass interrupted between the two is completed by
 * the next), runs, webhook events and alerts (their deliveries go with them) older than the plan's
 * history window, and expired idempotency keys. An approved baseline is kept while it is its
 * website's baseline. `plan` is the account's effective plan: a downgrade that has taken
 * effect shortens the window at once. Returns whether more may remain.
 */
export async function purgeExpired(
  db: Db,
  bucket: R2Bucket,
  plan: Plan,
  now: number,
  batch = RETENTION_BATCH,
): Promise<{ screenshots: number; runs: number; more: boolean }> {
  const before = historyStart(plan, now);
  const baselines = db
    .select({ id: websites.baselineScreenshotId })
    .from(websites)
    .where(sql`${websites.baselineScreenshotId} IS NOT NULL`);
  const shots = await db
    .select({
      id: screenshots.id,
      r2Key: screenshots.r2Key,
      diffKey: screenshots.diffKey,
      thumbKey: screenshots.thumbKey,
    })
    .from(screenshots)
    .where(and(lt(screenshots.createdAt, before), notInArray(screenshots.id, baselines)))
    .orderBy(asc(screenshots.createdAt))
    .limit(batch);
  const keys = shots.flatMap(screenshotObjects);
  // R2 deletes up to 1,000 keys per call.
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
  if (shots.length > 0)
    await db.delete(screenshots).where(
      inArray(
        screenshots.id,
        shots.map((s) => s.id),
      ),
    );
  const oldRuns = await db
    .delete(runs)
    .where(inArray(runs.id, db.select({ id: runs.id }).from(runs).where(lt(runs.createdAt, before)).limit(batch)))
    .returning({ id: runs.id });
  const oldEvents = await db
    .delete(webhookEvents)
    .where(
      inArray(
        webhookEvents.id,
        db.select({ id: webhookEvents.id }).from(webhookEvents).where(lt(webhookEvents.createdAt, before)).limit(batch),
      ),
    )
    .returning({ id: webhookEvents.id });
  const oldAlerts = await purgeAlerts(db, before, batch);
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now));
  return {
    screenshots: shots.length,
    runs: oldRuns.length,
    more: shots.length === batch || oldRuns.length === batch || oldEvents.length === batch || oldAlerts === batch,
  };
}

/** When the oldest row the window will drop falls out of it (null when there is none). */
export async function nextExpiry(db: Db, plan: Plan): Promise<number | null> {
  const window = plan.historyDays * DAY;
  const oldest = await db
    .select({
      at: sql<number | null>`min(
        coalesce((SELECT min(created_at) FROM screenshots WHERE id NOT IN (SELECT baseline_screenshot_id FROM websites WHERE baseline_screenshot_id IS NOT NULL)), 9e15),
        coalesce((SELECT min(created_at) FROM runs), 9e15),
        coalesce((SELECT min(created_at) FROM webhook_events), 9e15),
        coalesce((SELECT min(created_at) FROM alerts), 9e15))`,
      keys: sql<number | null>`(SELECT min(expires_at) FROM idempotency_keys)`,
    })
    .from(sql`(SELECT 1)`)
    .get();
  const times = [oldest?.at != null && oldest.at < 9e15 ? oldest.at + window : null, oldest?.keys ?? null].filter(
    (t): t is number => t !== null,
  );
  return times.length > 0 ? Math.min(...times) : null;
}
