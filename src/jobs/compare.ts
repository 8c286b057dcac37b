import type { Browser, BrowserContext, Page } from "@cloudflare/puppeteer";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { acquireBrowser, browserKeepAlive, releaseBrowser } from "../capture/browser";
import { freshContext } from "../capture/contexts";
import { describeError } from "../capture/errors";
import { CONTENT_TYPES } from "../capture/image";
import { transcodedKey } from "../capture/keys";
import type { Box } from "../capture/page";
import { transcodeToPng, UndecodableImage } from "../capture/transcode";
import { compareSources, type ImageSource } from "../compare/compare";
import { UnsupportedImage } from "../compare/rows";
import type { ChangeDetection } from "../compare/settings";
import { type Db, getDb } from "../db/client";
import { runs, type Screenshot, screenshots, websites } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { enqueue, type JobOf } from "../queue/messages";
import type { ComparisonFigures } from "../services/screenshots";
import { emitScreenshotEvent, notify } from "../services/webhooks";

/** A `pending` comparison untouched this long lost its message: the sweeper sends it again. */
export const COMPARE_LOST = 10 * MINUTE;
/** A comparison still pending this long after its capture ends `failed`. */
export const COMPARE_GIVE_UP = 60 * MINUTE;
const SWEEP_BATCH = 50;

/** The diff PNG sits next to the capture's bytes (under the website's prefix, purged with it). */
export const diffKeyOf = (r2Key: string) => r2Key.replace(/\.[a-z]+$/, ".diff.png");

/**
 * After a website capture completed: finds its baseline (the approved one, or the latest
 * earlier completed capture with the same compare key, one indexed query) and, when there
 * is one, marks the comparison `pending` and queues it. Never fails the capture: the caller
 * logs an error, and the sweeper finds a `pending` comparison whose message was lost.
 */
export async function startComparison(env: Env, db: Db, row: Screenshot, now: number): Promise<void> {
  if (!row.detection || !row.compareKey) return;
  const detection = JSON.parse(row.detection) as ChangeDetection;
  let baselineId: string | undefined;
  if (detection.baseline === "approved") {
    const site = await db
      .select({ id: websites.baselineScreenshotId })
      .from(websites)
      .where(eq(websites.id, row.websiteId))
      .get();
    baselineId = site?.id && site.id !== row.id ? site.id : undefined;
  } else {
    const previous = await db
      .select({ id: screenshots.id })
      .from(screenshots)
      .where(
        and(
          eq(screenshots.websiteId, row.websiteId),
          eq(screenshots.compareKey, row.compareKey),
          lt(screenshots.id, row.id),
          eq(screenshots.status, "completed"),
        ),
      )
      .orderBy(desc(screenshots.id))
      .limit(1)
      .get();
    baselineId = previous?.id;
  }
  if (!baselineId) return;
  await db
    .update(screenshots)
    .set({ comparisonStatus: "pending", baselineId, comparedAt: now })
    .where(and(eq(screenshots.id, row.id), sql`${screenshots.comparisonStatus} IS NULL`));
  await enqueue(env.JOBS, { type: "compare", screenshot_id: row.id, account_id: row.accountId });
}

/**
 * The comparison job. Idempotent: only a `pending` comparison is worked on and only a
 * `pending` one is completed, and the diff's key is fixed, so a redelivery rewrites the same
 * object. An image it cannot compare ends it `failed` with the reason; anything else (R2 or
 * D1 failing) is retried, and the dead-letter queue fails it in the end.
 */
export async function compareJob(env: Env, job: JobOf<"compare">, now: number): Promise<void> {
  await comparePending(env, getDb(env.DB), job.screenshot_id, job.account_id, now);
}

/** A completed comparison's verdict (what a scenario step needs to fail on a change). */
export interface Verdict {
  changed: boolean;
  figures: ComparisonFigures;
  baselineId: string;
}

/**
 * Works a `pending` comparison to its end (completed, or failed with the reason) and returns
 * the verdict when it completed. `browser`: a connected browser to transcode JPEG and WebP
 * in (a scenario run's own); without it one is acquired only if a PNG copy is missing.
 */
async function comparePending(
  env: Env,
  db: Db,
  screenshotId: string,
  accountId: string,
  now: number,
  browser?: Browser,
): Promise<Verdict | null> {
  const row = await db
    .select()
    .from(screenshots)
    .where(and(eq(screenshots.id, screenshotId), eq(screenshots.accountId, accountId)))
    .get();
  if (row?.comparisonStatus !== "pending" || !row.baselineId || !row.r2Key) return null;
  const base = await db
    .select()
    .from(screenshots)
    .where(and(eq(screenshots.id, row.baselineId), eq(screenshots.accountId, row.accountId)))
    .get();
  if (base?.status !== "completed" || !base.r2Key) {
    await failComparison(db, row.id, "The baseline screenshot no longer exists", now);
    return null;
  }
  const detection = JSON.parse(row.detection ?? "{}") as ChangeDetection;

  if (base.sha256 === row.sha256) {
    // Identical bytes: unchanged, nothing decoded, no diff to draw.
    const figures: ComparisonFigures = {
      changed_pixels: 0,
      change_ratio: 0,
      max_tile_ratio: 0,
      regions: [],
      size_changed: false,
    };
    const stored = await completeComparison(db, row.id, false, figures, null, now);
    return stored ? { changed: false, figures, baselineId: base.id } : null;
  }

  const ignore: Box[] = [...boxes(base.ignoreBoxes), ...boxes(row.ignoreBoxes), ...(detection.ignore_regions ?? [])];
  let outcome: Awaited<ReturnType<typeof compareSources>>;
  const session = new TranscodeSession(env, browser);
  try {
    // JPEG and WebP are compared through their PNG copies (made once; the baseline's is reused).
    const baseline = await pngSource(env, db, base, session);
    const current = await pngSource(env, db, row, session);
    await session.close();
    outcome = await compareSources(baseline, current, {
      threshold: detection.threshold ?? 0.1,
      tile_threshold: detection.tile_threshold ?? 2,
      ignore,
    });
  } catch (err) {
    if (err instanceof UnsupportedImage || err instanceof UndecodableImage) {
      await failComparison(db, row.id, err.message, now);
      return null;
    }
    throw err;
  } finally {
    await session.close();
  }
  const { result, diff } = outcome;
  const key = diffKeyOf(row.r2Key);
  await env.SHOTS.put(key, new Blob(diff), { httpMetadata: { contentType: "image/png" } });
  const figures: ComparisonFigures = {
    changed_pixels: result.changed_pixels,
    change_ratio: result.change_ratio,
    max_tile_ratio: result.max_tile_ratio,
    regions: result.regions,
    size_changed: result.size_changed,
  };
  const stored = await completeComparison(db, row.id, result.changed, figures, key, now);
  if (!stored) {
    // Deleted while we compared (or done by a twin delivery that wrote the same key).
    const still = await db.select({ id: screenshots.id }).from(screenshots).where(eq(screenshots.id, row.id)).get();
    if (!still) await env.SHOTS.delete(key);
    return null;
  }
  if (result.changed) {
    // `data` is the screenshot as the API shows it, its completed `comparison` included.
    await notify(`change.detected:${row.id}`, () => emitScreenshotEvent(db, env.WEBHOOKS, row, "change.detected", now));
  }
  return { changed: result.changed, figures, baselineId: base.id };
}

/**
 * A scenario's `screenshot` step with `compare: true`, once its image is stored: its
 * baseline is the same-named screenshot of the scenario's latest passed run (none ⇒ no
 * comparison). With `inline` (the run's browser; `fail_on_change` needs the answer before the
 * next step) the comparison runs here and its verdict is returned; otherwise it is queued.
 * Never throws: a comparison that cannot be made ends `failed` with the reason (or, queued,
 * is found by the sweeper), and the step goes on.
 */
export async function compareScenarioShot(
  env: Env,
  db: Db,
  shot: { id: string; accountId: string; name: string },
  run: { id: string; scenarioId: string },
  inline: Browser | null,
  now: () => number,
): Promise<Verdict | null> {
  try {
    const lastPassed = db
      .select({ id: runs.id })
      .from(runs)
      .where(and(eq(runs.scenarioId, run.scenarioId), eq(runs.status, "passed"), lt(runs.id, run.id)))
      .orderBy(desc(runs.id))
      .limit(1);
    const baseline = await db
      .select({ id: screenshots.id })
      .from(screenshots)
      .where(
        and(
          eq(screenshots.runId, sql`(${lastPassed})`),
          eq(screenshots.name, shot.name),
          eq(screenshots.status, "completed"),
        ),
      )
      .limit(1)
      .get();
    if (!baseline) return null;
    await db
      .update(screenshots)
      .set({ comparisonStatus: "pending", baselineId: baseline.id, comparedAt: now() })
      .where(and(eq(screenshots.id, shot.id), sql`${screenshots.comparisonStatus} IS NULL`));
    if (!inline) {
      await enqueue(env.JOBS, { type: "compare", screenshot_id: shot.id, account_id: shot.accountId });
      return null;
    }
    return await comparePending(env, db, shot.id, shot.accountId, now(), inline);
  } catch (err) {
    console.error(
      JSON.stringify({ level: "error", msg: "scenario comparison failed", id: shot.id, error: describeError(err) }),
    );
    if (inline)
      await failComparison(db, shot.id, `The comparison could not be made: ${describeError(err)}`, now()).catch(
        () => {},
      );
    return null;
  }
}

async function completeComparison(
  db: Db,
  id: string,
  changed: boolean,
  figures: ComparisonFigures,
  diffKey: string | null,
  now: number,
): Promise<boolean> {
  const done = await db
    .update(screenshots)
    .set({ comparisonStatus: "completed", changed, comparison: JSON.stringify(figures), diffKey, comparedAt: now })
    .where(and(eq(screenshots.id, id), eq(screenshots.comparisonStatus, "pending")))
    .returning({ id: screenshots.id });
  return done.length > 0;
}

export async function failComparison(db: Db, id: string, error: string, now: number): Promise<void> {
  await db
    .update(screenshots)
    .set({ comparisonStatus: "failed", comparison: JSON.stringify({ error }), comparedAt: now })
    .where(and(eq(screenshots.id, id), eq(screenshots.comparisonStatus, "pending")));
}

/** Dead-lettered comparison: its retries are exhausted. */
export async function comparisonGaveUp(env: Env, job: JobOf<"compare">, now: number) {
  await failComparison(
    getDb(env.DB),
    job.screenshot_id,
    "The comparison could not be completed (retries exhausted)",
    now,
  );
}

/**
 * Minute cron: a `pending` comparison whose message was lost is sent again (a conditional
 * UPDATE on its staleness, so overlapping sweeps send it once); one pending for
 * COMPARE_GIVE_UP since its capture ends `failed`.
 */
export async function sweepComparisons(env: Env, now: number): Promise<void> {
  const db = getDb(env.DB);
  await db
    .update(screenshots)
    .set({
      comparisonStatus: "failed",
      comparison: JSON.stringify({ error: "The comparison was interrupted and did not finish in time" }),
      comparedAt: now,
    })
    .where(
      and(
        eq(screenshots.comparisonStatus, "pending"),
        lt(screenshots.comparedAt, now - COMPARE_LOST),
        lt(screenshots.capturedAt, now - COMPARE_GIVE_UP),
      ),
    );
  const lost = await db
    .update(screenshots)
    .set({ comparedAt: now })
    .where(
      sql`${screenshots.id} IN (SELECT id FROM screenshots WHERE comparison_status = 'pending' AND compared_at < ${now - COMPARE_LOST} LIMIT ${SWEEP_BATCH})`,
    )
    .returning({ id: screenshots.id, accountId: screenshots.accountId });
  for (const r of lost) await enqueue(env.JOBS, { type: "compare", screenshot_id: r.id, account_id: r.accountId });
}

function boxes(json: string | null): Box[] {
  return json ? (JSON.parse(json) as Box[]) : [];
}

function source(env: Env, row: Screenshot, key: string): ImageSource {
  return {
    format: "png",
    async stream() {
      const object = await env.SHOTS.get(key);
      if (!object) throw new UnsupportedImage(`The image of ${row.id} is missing from storage`);
      return object.body;
    },
  };
}

/**
 * A browser page for transcoding, opened only when an image has no PNG copy yet: the
 * shared session (acquired and released as the capture jobs do) and a fresh incognito
 * context of its own, closed when the job is done with it.
 */
class TranscodeSession {
  private browser?: Browser;
  private context?: BrowserContext;
  private opened?: Page;
  /** `shared`: a browser the caller holds (a scenario run's); used, never released, here. */
  constructor(
    private readonly env: Env,
    private readonly shared?: Browser,
  ) {}

  async page(): Promise<Page> {
    if (this.opened) return this.opened;
    this.browser = this.shared ?? (await acquireBrowser(this.env.BROWSER, browserKeepAlive(this.env)));
    const fresh = await freshContext(this.browser);
    this.context = fresh.context;
    this.opened = fresh.page;
    return fresh.page;
  }

  async close(): Promise<void> {
    const { browser, context } = this;
    this.browser = this.context = this.opened = undefined;
    if (context) await context.close().catch(() => {});
    if (browser && browser !== this.shared) await releaseBrowser(browser);
  }
}

/**
 * The image as PNG: a PNG capture as it is; a JPEG or WebP capture through its lossless PNG
 * copy next to it, transcoded in the browser the first time it is needed and streamed to
 * R2 piece by piece (the Worker never holds the image whole).
 */
async function pngSource(env: Env, db: Db, row: Screenshot, session: TranscodeSession): Promise<ImageSource> {
  const imageKey = row.r2Key as string;
  const copyKey = transcodedKey(imageKey);
  if (!copyKey) return source(env, row, imageKey);
  if (await env.SHOTS.head(copyKey)) return source(env, row, copyKey);
  const object = await env.SHOTS.get(imageKey);
  if (!object) throw new UnsupportedImage(`The image of ${row.id} is missing from storage`);
  const png = await transcodeToPng(await session.page(), object.body, CONTENT_TYPES[row.format ?? "png"]);
  const { readable, writable } = new FixedLengthStream(png.size);
  const put = env.SHOTS.put(copyKey, readable, { httpMetadata: { contentType: CONTENT_TYPES.png } });
  put.catch(() => {});
  const writer = writable.getWriter();
  try {
    for await (const piece of png.chunks()) await writer.write(piece);
    await writer.close();
  } catch (err) {
    await writer.abort(err).catch(() => {});
    throw err;
  }
  await put;
  // Deleted while we transcoded: the copy belongs to nobody (deletion removes rows first).
  const still = await db.select({ id: screenshots.id }).from(screenshots).where(eq(screenshots.id, row.id)).get();
  if (!still) {
    await env.SHOTS.delete(copyKey);
    throw new UnsupportedImage(`The screenshot ${row.id} was deleted during the comparison`);
  }
  return source(env, row, copyKey);
}
