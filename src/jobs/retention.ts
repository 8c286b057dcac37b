import { inArray, type SQL, sql } from "drizzle-orm";
import { screenshotObjects } from "../capture/keys";
import { chunks } from "../db/chunks";
import { getDb } from "../db/client";
import { runs, screenshots, webhookEvents } from "../db/schema";
import { DAY } from "../lib/clock";
import { PLANS } from "../limits/plans";

/** Rows deleted per pass; a pass that hits the bound asks for another (queued) pass. */
export const RETENTION_BATCH = 500;

/**
 * The account's history window in ms, from its stored plan and the plans table. Due
 * downgrades are applied before a retention pass (cron.ts), so the stored plan is the
 * effective one; one that is not applied yet only keeps data longer, never shorter.
 */
function windowMs(): SQL {
  const cases = Object.values(PLANS).map((p) => sql`WHEN ${p.id} THEN ${p.historyDays * DAY}`);
  return sql`(CASE a.plan ${sql.join(cases, sql` `)} END)`;
}

const shortestWindow = () => Math.min(...Object.values(PLANS).map((p) => p.historyDays)) * DAY;

/**
 * One bounded pass: screenshots (R2 bytes and diffs first, then rows — a pass interrupted between
 * the two is completed by the next), runs and webhook events (their deliveries go with them)
 * older than their account's history window, plus expired sessions, invitations and idempotency
 * keys. Returns true when more may remain.
 */
export async function purgeExpired(
  env: Env,
  now: number,
  batch = RETENTION_BATCH,
): Promise<{ screenshots: number; runs: number; more: boolean }> {
  const db = getDb(env.DB);
  const oldest = now - shortestWindow();
  // An approved baseline is kept while it is its website's baseline.
  const shots = await db.all<{
    id: string;
    r2_key: string | null;
    diff_key: string | null;
    thumb_key: string | null;
  }>(sql`
    SELECT s.id, s.r2_key, s.diff_key, s.thumb_key FROM screenshots s JOIN accounts a ON a.id = s.account_id
    WHERE s.created_at < ${oldest} AND s.created_at < ${now} - ${windowMs()}
      AND NOT EXISTS (SELECT 1 FROM websites w WHERE w.baseline_screenshot_id = s.id)
    ORDER BY s.created_at LIMIT ${batch}`);
  const keys = shots.flatMap((s) => screenshotObjects({ r2Key: s.r2_key, thumbKey: s.thumb_key, diffKey: s.diff_key }));
  // Screenshots of one id may exist under earlier attempts' keys only if a write failed; those
  // were deleted then. R2 deletes up to 1,000 keys per call.
  for (const slice of chunks(keys, 1000)) await env.SHOTS.delete(slice);
  for (const slice of chunks(shots)) {
    await db.delete(screenshots).where(
      inArray(
        screenshots.id,
        slice.map((s) => s.id),
      ),
    );
  }
  const oldRuns = await db.all<{ id: string }>(sql`
    SELECT r.id FROM runs r JOIN accounts a ON a.id = r.account_id
    WHERE r.created_at < ${oldest} AND r.created_at < ${now} - ${windowMs()}
    ORDER BY r.created_at LIMIT ${batch}`);
  for (const slice of chunks(oldRuns)) {
    await db.delete(runs).where(
      inArray(
        runs.id,
        slice.map((r) => r.id),
      ),
    );
  }
  const oldEvents = await db.all<{ id: string }>(sql`
    SELECT e.id FROM webhook_events e JOIN accounts a ON a.id = e.account_id
    WHERE e.created_at < ${oldest} AND e.created_at < ${now} - ${windowMs()}
    ORDER BY e.created_at LIMIT ${batch}`);
  for (const slice of chunks(oldEvents)) {
    await db.delete(webhookEvents).where(
      inArray(
        webhookEvents.id,
        slice.map((e) => e.id),
      ),
    );
  }
  await db.run(
    sql`DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires_at < ${now} LIMIT ${batch})`,
  );
  await db.run(
    sql`DELETE FROM invitations WHERE rowid IN (SELECT rowid FROM invitations WHERE expires_at < ${now} LIMIT ${batch})`,
  );
  await db.run(
    sql`DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE expires_at < ${now} LIMIT ${batch})`,
  );
  return {
    screenshots: shots.length,
    runs: oldRuns.length,
    more: shots.length === batch || oldRuns.length === batch || oldEvents.length === batch,
  };
}
