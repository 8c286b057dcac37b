import type { Browser, BrowserContext, Page } from "@cloudflare/puppeteer";
import { MAX_INLINE_IMAGE_BYTES } from "../alerts/messages";
import { acquireBrowser, browserKeepAlive, releaseBrowser } from "../capture/browser";
import { freshContext } from "../capture/contexts";
import { describeError } from "../capture/errors";
import { CONTENT_TYPES } from "../capture/image";
import { alertImageKey, textKey, transcodedKey } from "../capture/keys";
import type { Box } from "../capture/page";
import { transcodeToPng, UndecodableImage } from "../capture/transcode";
import { compareSources, type ImageSource } from "../compare/compare";
import { diffPreview } from "../compare/preview";
import { UnsupportedImage } from "../compare/rows";
import { type ChangeDetection, parseChangeDetection, type Trigger } from "../compare/settings";
import { comparableLines, compareLines, firedTriggers, type TextComparison, UNCHANGED_TEXT } from "../compare/text";
import { accountStub } from "../db/account-stub";
import type { Screenshot } from "../db/schema";
import type { JobOf } from "../queue/messages";
import { UNCHANGED } from "../services/comparisons";
import type { ComparisonFigures } from "../services/screenshots";

/** The diff PNG sits next to the capture's bytes (under the website's prefix, purged with it). */
export const diffKeyOf = (r2Key: string) => r2Key.replace(/\.[a-z]+$/, ".diff.png");

/**
 * The comparison job. Idempotent: only a `pending` comparison is worked on and only a
 * `pending` one is completed (by the account's object), and the diff's key is fixed, so a
 * redelivery rewrites the same object. An image it cannot compare ends it `failed` with the
 * reason; anything else (R2 or the object failing) is retried, and the dead-letter queue
 * fails it in the end.
 */
export async function compareJob(env: Env, job: JobOf<"compare">, now: number): Promise<void> {
  await comparePending(env, job.account_id, job.screenshot_id, now);
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
  accountId: string,
  screenshotId: string,
  now: number,
  browser?: Browser,
): Promise<Verdict | null> {
  const account = accountStub(env.ACCOUNT, accountId);
  const input = await account.comparisonInput(accountId, screenshotId, now);
  if ("skip" in input) return null;
  const { row, base } = input as { row: Screenshot; base: Screenshot };
  const detection = parseChangeDetection(row.detection);
  // The text first: two small R2 reads (or none, when the texts are the same), no browser.
  const { text, triggered } = await compareTexts(env, row, base, detection);
  const verdict = (pixels: boolean) =>
    detection.triggers.length > 0 ? triggered.length > 0 : pixels || (text?.changed ?? false);

  if (base.sha256 === row.sha256) {
    // Identical bytes: the pixels are unchanged, nothing decoded, no diff to draw.
    const figures: ComparisonFigures = { ...UNCHANGED, text, triggered };
    const changed = verdict(false);
    const stored = await account.completeComparison(accountId, row.id, changed, figures, null, now);
    return stored ? { changed, figures, baselineId: base.id } : null;
  }

  const ignore: Box[] = [...boxes(base.ignoreBoxes), ...boxes(row.ignoreBoxes), ...(detection.ignore_regions ?? [])];
  let outcome: Awaited<ReturnType<typeof compareSources>>;
  const session = new TranscodeSession(env, browser);
  try {
    // JPEG and WebP are compared through their PNG copies (made once; the baseline's is reused).
    const baseline = await pngSource(env, accountId, base, session);
    const current = await pngSource(env, accountId, row, session);
    await session.close();
    outcome = await compareSources(baseline, current, {
      threshold: detection.threshold ?? 0.1,
      tile_threshold: detection.tile_threshold ?? 2,
      ignore,
    });
  } catch (err) {
    if (err instanceof UnsupportedImage || err instanceof UndecodableImage) {
      await account.failComparison(accountId, row.id, err.message, now);
      return null;
    }
    throw err;
  } finally {
    await session.close();
  }
  const { result, diff } = outcome;
  const key = diffKeyOf(row.r2Key as string);
  await env.SHOTS.put(key, new Blob(diff), { httpMetadata: { contentType: "image/png" } });
  const figures: ComparisonFigures = {
    changed_pixels: result.changed_pixels,
    change_ratio: result.change_ratio,
    max_tile_ratio: result.max_tile_ratio,
    regions: result.regions,
    size_changed: result.size_changed,
    text,
    triggered,
  };
  const changed = verdict(result.changed);
  // A change people may be mailed about gets its small picture (before it is reported).
  if (changed && row.source !== "scenario") await storeAlertImage(env, row, key, result.regions);
  const stored = await account.completeComparison(accountId, row.id, changed, figures, key, now);
  if (!stored) {
    // Deleted while we compared (or done by a twin delivery that wrote the same key).
    if (!(await account.screenshotExists(accountId, row.id))) await env.SHOTS.delete(key);
    return null;
  }
  return { changed, figures, baselineId: base.id };
}

/**
 * `comparison.text` and the triggers that fired: the two captures' texts (R2, next to their
 * images) as lines without their ignored elements' text, diffed (src/compare/text.ts). Null
 * when text is off or either capture kept none (then no trigger can fire).
 */
async function compareTexts(
  env: Env,
  row: Screenshot,
  base: Screenshot,
  detection: ChangeDetection,
): Promise<{ text: TextComparison | null; triggered: Trigger[] }> {
  if (detection.text === false || !row.textSha256 || !base.textSha256 || !row.r2Key || !base.r2Key)
    return { text: null, triggered: [] };
  if (row.textSha256 === base.textSha256 && row.ignoreText === base.ignoreText)
    return { text: UNCHANGED_TEXT, triggered: [] };
  const [before, after] = await Promise.all([readText(env, base.r2Key), readText(env, row.r2Key)]);
  if (before === null || after === null) return { text: null, triggered: [] };
  const ignored = [...strings(base.ignoreText), ...strings(row.ignoreText)];
  const a = comparableLines(before, ignored);
  const b = comparableLines(after, ignored);
  return { text: compareLines(a, b), triggered: firedTriggers(detection.triggers, a, b) };
}

async function readText(env: Env, imageKey: string): Promise<string | null> {
  const object = await env.SHOTS.get(textKey(imageKey));
  return object ? object.text() : null;
}

const strings = (json: string | null) => (json ? (JSON.parse(json) as string[]) : []);

/** The change's small picture for alert emails (≤ 100 KB), next to the image; a failure only costs the picture. */
async function storeAlertImage(env: Env, row: Screenshot, diffKey: string, regions: Box[]) {
  try {
    const diff = await env.SHOTS.get(diffKey);
    if (!diff) return;
    const png = await diffPreview(diff.body, regions, MAX_INLINE_IMAGE_BYTES);
    if (png)
      await env.SHOTS.put(alertImageKey(row.r2Key as string), png, { httpMetadata: { contentType: "image/png" } });
  } catch (err) {
    console.error(
      JSON.stringify({ level: "error", msg: "alert image not made", id: row.id, error: describeError(err) }),
    );
  }
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
  accountId: string,
  shot: { id: string; name: string },
  run: { id: string; scenarioId: string },
  inline: Browser | null,
  now: () => number,
): Promise<Verdict | null> {
  const account = accountStub(env.ACCOUNT, accountId);
  try {
    const started = await account.startScenarioComparison(accountId, shot, run, inline !== null, now());
    if (!started || !inline) return null;
    return await comparePending(env, accountId, shot.id, now(), inline);
  } catch (err) {
    console.error(
      JSON.stringify({ level: "error", msg: "scenario comparison failed", id: shot.id, error: describeError(err) }),
    );
    if (inline)
      await account
        .failComparison(accountId, shot.id, `The comparison could not be made: ${describeError(err)}`, now())
        .catch(() => {});
    return null;
  }
}

/** Dead-lettered comparison: its retries are exhausted. */
export async function comparisonGaveUp(env: Env, job: JobOf<"compare">, now: number) {
  await accountStub(env.ACCOUNT, job.account_id).failComparison(
    job.account_id,
    job.screenshot_id,
    "The comparison could not be completed (retries exhausted)",
    now,
  );
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
async function pngSource(
  env: Env,
  accountId: string,
  row: Screenshot,
  session: TranscodeSession,
): Promise<ImageSource> {
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
  if (!(await accountStub(env.ACCOUNT, accountId).screenshotExists(accountId, row.id))) {
    await env.SHOTS.delete(copyKey);
    throw new UnsupportedImage(`The screenshot ${row.id} was deleted during the comparison`);
  }
  return source(env, row, copyKey);
}
