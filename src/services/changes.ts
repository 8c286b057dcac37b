import { eq, gte, lte } from "drizzle-orm";
import { parseChangeDetection } from "../compare/settings";
import type { Db } from "../db/client";
import { listPage } from "../db/owned";
import { screenshots, websites } from "../db/schema";
import { ApiError, notFound } from "../lib/errors";
import type { Plan } from "../limits/plans";
import { getScreenshot, screenshotView } from "./screenshots";
import { getWebsite } from "./websites";

/** `GET /v1/screenshots/{id}/diff`: the diff PNG; 409 while pending, 404 when there is none. */
export async function screenshotDiff(db: Db, bucket: R2Bucket, id: string) {
  const row = await getScreenshot(db, id);
  if (row.comparisonStatus === "pending")
    throw new ApiError("conflict", "The comparison is still running; try again shortly.");
  if (!row.diffKey) throw notFound("Diff");
  const object = await bucket.get(row.diffKey);
  if (!object) throw notFound("Diff");
  return {
    body: object.body,
    headers: {
      "Content-Type": "image/png",
      "Content-Length": String(object.size),
      "Content-Disposition": `inline; filename="${row.id}.diff.png"`,
      "Cache-Control": "private, max-age=31536000, immutable",
    },
  };
}

/**
 * `POST /v1/screenshots/{id}/approve`: a completed website capture becomes its website's
 * baseline from now on — the website switches to `baseline: "approved"` if it compared with
 * the previous capture — and retention keeps it while it is.
 */
export async function approveScreenshot(db: Db, id: string, plan: Plan) {
  const row = await getScreenshot(db, id);
  if (row.status !== "completed" || row.source === "scenario")
    throw new ApiError("conflict", "Only a completed website capture (not a scenario step) can be the baseline.");
  const website = await getWebsite(db, row.websiteId);
  const detection = { ...parseChangeDetection(website.changeDetection), baseline: "approved" as const };
  await db
    .update(websites)
    .set({ baselineScreenshotId: row.id, changeDetection: JSON.stringify(detection) })
    .where(eq(websites.id, row.websiteId));
  return screenshotView(row, plan);
}

/**
 * Undoes approving: the website compares each capture with the previous one again, and the
 * capture that was its baseline is no longer kept past retention.
 */
export async function comparePrevious(db: Db, websiteId: string, now: number) {
  const website = await getWebsite(db, websiteId);
  const detection = { ...parseChangeDetection(website.changeDetection), baseline: "previous" as const };
  await db
    .update(websites)
    .set({ baselineScreenshotId: null, changeDetection: JSON.stringify(detection), updatedAt: now })
    .where(eq(websites.id, websiteId));
}

/** `GET /v1/websites/{id}/changes`: captures whose comparison found a change, newest first. */
export async function listChanges(
  db: Db,
  plan: Plan,
  websiteId: string,
  q: { limit: number; cursor?: string; since?: number; until?: number },
) {
  await getWebsite(db, websiteId);
  return listPage(
    db,
    screenshots,
    q,
    (s) => screenshotView(s, plan),
    eq(screenshots.websiteId, websiteId),
    eq(screenshots.changed, true),
    q.since !== undefined ? gte(screenshots.createdAt, q.since) : undefined,
    q.until !== undefined ? lte(screenshots.createdAt, q.until) : undefined,
  );
}
