import { eq, sql } from "drizzle-orm";
import { websitePrefix } from "../capture/keys";
import { type CaptureOptionsInput, CaptureOptionsSchema } from "../capture/options";
import { checkUrl, type GuardPolicy } from "../capture/url-guard";
import { type ChangeDetection, parseChangeDetection } from "../compare/settings";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { listPage, rowById, updateById } from "../db/owned";
import { type Website, websites } from "../db/schema";
import { iso, isoOrNull } from "../lib/clock";
import { ApiError, fieldErrors, notFound, validationError } from "../lib/errors";
import type { Plan } from "../limits/plans";
import { enqueue } from "../queue/messages";
import { forgetWebsite } from "./alert-channels";

export function websiteView(w: Website) {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    capture: storedCapture(w.capture),
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
    last_capture_at: isoOrNull(w.lastCaptureAt),
    change_detection: parseChangeDetection(w.changeDetection),
    baseline_screenshot_id: w.baselineScreenshotId,
  };
}

/**
 * Stored capture options for a capture to use, checked against today's rules: a row stored
 * before a rule tightened (e.g. a header value with CR/LF) never reaches the browser; the
 * request is refused with the offending paths until the options are updated.
 */
export function parseCapture(json: string | null): CaptureOptionsInput {
  if (!json) return {};
  const parsed = CaptureOptionsSchema.safeParse(JSON.parse(json));
  if (parsed.success) return parsed.data;
  throw validationError(
    fieldErrors(parsed.error.issues.map((i) => ({ ...i, path: ["capture", ...i.path] }))),
    "The stored capture options are not valid under the current rules; update them first.",
  );
}

/** Stored capture options as a read shows them: as stored, so reading never fails on an old row. */
export function storedCapture(json: string | null): CaptureOptionsInput {
  if (!json) return {};
  const raw: unknown = JSON.parse(json);
  const parsed = CaptureOptionsSchema.safeParse(raw);
  return parsed.success ? parsed.data : (raw as CaptureOptionsInput);
}

/** URLs are checked when stored (and again at every capture). */
export async function checkStoredUrl(raw: string, policy: GuardPolicy, field = "url"): Promise<string> {
  const verdict = await checkUrl(raw, policy, "storing");
  if (!verdict.ok) throw validationError({ [field]: [verdict.reason] });
  return verdict.url.toString();
}

export const getWebsite = (db: Db, id: string): Promise<Website> => rowById(db, websites, id, "Website");

export async function createWebsite(
  db: Db,
  plan: Plan,
  input: { name: string; url: string; capture?: CaptureOptionsInput; change_detection?: ChangeDetection },
  policy: GuardPolicy,
  now: number,
): Promise<Website> {
  const url = await checkStoredUrl(input.url, policy);
  const id = newId("website", now);
  // Count and insert in one statement, so parallel creates cannot pass the limit together.
  const rows = await db.all<{ id: string }>(sql`
    INSERT INTO websites (id, name, url, capture, change_detection, created_at, updated_at)
    SELECT ${id}, ${input.name}, ${url}, ${JSON.stringify(input.capture ?? {})},
      ${JSON.stringify(input.change_detection ?? {})}, ${now}, ${now}
    WHERE (SELECT count(*) FROM websites) < ${plan.websites}
    RETURNING id`);
  if (rows.length === 0) {
    throw new ApiError(
      "plan_limit_reached",
      `The ${plan.id} plan allows ${plan.websites} website${plan.websites === 1 ? "" : "s"}. Delete one or upgrade.`,
    );
  }
  return getWebsite(db, id);
}

export const listWebsites = (db: Db, q: { limit: number; cursor?: string }) => listPage(db, websites, q, websiteView);

export async function updateWebsite(
  db: Db,
  id: string,
  patch: { name?: string; url?: string; capture?: CaptureOptionsInput; change_detection?: ChangeDetection },
  policy: GuardPolicy,
  now: number,
): Promise<Website> {
  await getWebsite(db, id);
  const set: Partial<Website> = { updatedAt: now };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.url !== undefined) set.url = await checkStoredUrl(patch.url, policy);
  if (patch.capture !== undefined) set.capture = JSON.stringify(patch.capture);
  if (patch.change_detection !== undefined) set.changeDetection = JSON.stringify(patch.change_detection);
  return updateById(db, websites, id, set, "Website");
}

/**
 * Deletes the website; foreign keys cascade to its screenshots, scenarios (with runs) and
 * schedules in the same statement. The R2 bytes go by prefix in a background job that
 * resumes page by page, so a website with many screenshots deletes in constant time.
 */
export async function deleteWebsite(db: Db, queue: Queue, accountId: string, id: string): Promise<void> {
  const deleted = await db.delete(websites).where(eq(websites.id, id)).returning({ id: websites.id });
  if (deleted.length === 0) throw notFound("Website");
  await forgetWebsite(db, id);
  await enqueue(queue, { type: "purge_prefix", prefix: websitePrefix(accountId, id) });
}
