import type { Browser } from "@cloudflare/puppeteer";
import { describeError, permanentError, TargetError } from "../capture/errors";
import { CONTENT_TYPES } from "../capture/image";
import { screenshotKey, TEXT_TYPE, textKey, thumbnailKey } from "../capture/keys";
import type { BrowserTask } from "../capture/lanes";
import type { CaptureOptions } from "../capture/options";
import { assertContained, type GuardedPage, navigate, openPage, type Shot, shoot, withDeadline } from "../capture/page";
import { withThumbAndText } from "../capture/text";
import { logTrace, type PhaseTrace, type Trace, tracedBucket, untraced } from "../capture/trace";
import { checkUrl, type GuardPolicy } from "../capture/url-guard";
import type { ChangeDetection } from "../compare/settings";
import { accountStub } from "../db/account-stub";
import type { Screenshot } from "../db/schema";
import { sha256Hex } from "../lib/crypto";
import type { JobOf } from "../queue/messages";
import type { StoredShot } from "../services/capture-jobs";

export interface CaptureWork {
  message: Message<unknown>;
  job: JobOf<"capture">;
}

/** Backoff for transient failures: 10 s, 20 s, 40 s … capped at 5 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));

/**
 * A capture's page, opened before it is needed: the URL checked, then a fresh context and
 * page, armed and configured (page.ts). Close it with `shootCapture` (or `close()`).
 */
export async function openCapture(
  browser: Browser,
  opts: CaptureOptions,
  url: string,
  policy: GuardPolicy,
  trace: Trace = untraced,
): Promise<GuardedPage> {
  const verdict = await checkUrl(url, policy, "capturing");
  if (!verdict.ok) throw new TargetError(`Blocked ${url}: ${verdict.reason}`);
  return openPage(browser, verdict.url, opts, policy, trace);
}

/**
 * The browser work that needs a page slot: navigate, then the picture. On failure the
 * page's context is closed; otherwise `finishPicture` closes it.
 */
export async function takePicture(
  page: GuardedPage,
  opts: CaptureOptions,
  url: string,
  measure: string[] = [],
): Promise<Shot> {
  try {
    return await withDeadline(
      opts.timeout_ms + opts.delay_ms + 15_000,
      "Capture",
      (async () => {
        await navigate(page, url, opts);
        return shoot(page, opts, measure);
      })(),
    );
  } catch (err) {
    await page.close();
    throw err;
  }
}

/** How long the thumbnail and the text may take, after the picture. */
const FINISH_MS = 15_000;

/**
 * The rest of a picture's browser work, from the same page (no slot needed): the thumbnail
 * and the page's text, then the containment check over everything the page received; its
 * context is closed after.
 */
export async function finishPicture(
  page: GuardedPage,
  shot: Shot,
  opts: CaptureOptions,
  measure: string[] = [],
): Promise<Shot> {
  try {
    return await withDeadline(
      FINISH_MS,
      "Capture",
      (async () => {
        await withThumbAndText(page, shot, opts, measure);
        assertContained(page);
        return shot;
      })(),
    );
  } finally {
    await page.close();
  }
}

/**
 * Puts a capture's image and thumbnail in R2. The key carries the attempt, so a slower
 * duplicate of the same job can never overwrite or delete the winner's bytes. Returns what
 * the row records and every key written (to delete again if the row cannot take them).
 */
export async function storeShotBytes(
  env: Env,
  accountId: string,
  row: Pick<Screenshot, "id" | "attempts" | "websiteId" | "format">,
  shot: Shot,
  scenarioId: string | null,
): Promise<{ stored: StoredShot; keys: string[] }> {
  const format = row.format ?? "png";
  const sha256 = await sha256Hex(shot.bytes);
  const key = screenshotKey({
    id: `${row.id}.${row.attempts}`,
    accountId,
    websiteId: row.websiteId,
    scenarioId,
    format,
  });
  // The gallery thumbnail and the page's text (`GET /v1/screenshots/{id}/text`, the text
  // comparison) next to the image, under the same attempt's key (deleted with it); the three
  // are put at once; if any fails, every key is deleted again once all have settled (so no
  // put lands after the delete; deleting one never written is harmless).
  const thumbKey = shot.thumb ? thumbnailKey(key) : null;
  const text = shot.text ? new TextEncoder().encode(shot.text.text) : null;
  const keys = [key, ...(thumbKey ? [thumbKey] : []), ...(text ? [textKey(key)] : [])];
  const puts = await Promise.allSettled([
    env.SHOTS.put(key, shot.bytes, { httpMetadata: { contentType: CONTENT_TYPES[format] }, sha256 }),
    thumbKey && shot.thumb
      ? env.SHOTS.put(thumbKey, shot.thumb, { httpMetadata: { contentType: CONTENT_TYPES.jpeg } })
      : null,
    text ? env.SHOTS.put(textKey(key), text, { httpMetadata: { contentType: TEXT_TYPE } }) : null,
  ]);
  const failed = puts.find((p): p is PromiseRejectedResult => p.status === "rejected");
  if (failed) {
    await env.SHOTS.delete(keys);
    throw failed.reason;
  }
  const textSha256 = text ? await sha256Hex(text) : null;
  return {
    stored: {
      r2Key: key,
      thumbKey,
      width: shot.width,
      height: shot.height,
      bytes: shot.bytes.byteLength,
      sha256,
      ignoreBoxes: shot.ignore ? JSON.stringify(shot.ignore) : null,
      textSha256,
      ignoreText: shot.text?.ignored.length ? JSON.stringify(shot.text.ignored) : null,
    },
    keys,
  };
}

/**
 * Stores the bytes and has the account's object complete the row; whatever does not end up
 * referenced by a completed row is deleted again (no orphans). False when the row was
 * deleted or taken over meanwhile.
 */
export async function storeShot(
  env: Env,
  accountId: string,
  row: Pick<Screenshot, "id" | "attempts" | "websiteId" | "format" | "scheduleId">,
  shot: Shot,
  scenarioId: string | null,
  now: number,
): Promise<boolean> {
  const { stored, keys } = await storeShotBytes(env, accountId, row, shot, scenarioId);
  let completed: boolean;
  try {
    const account = accountStub(env.ACCOUNT, accountId);
    completed = scenarioId
      ? await account.completeRunShot(accountId, row, stored, now)
      : await account.completeCapture(accountId, row, stored, now);
  } catch (err) {
    await env.SHOTS.delete(keys);
    throw err;
  }
  // Deleted (or taken over) while we worked: our bytes belong to nobody.
  if (!completed) await env.SHOTS.delete(keys);
  return completed;
}

export type ClaimedCapture = CaptureWork & { row: Screenshot };

/**
 * Claims each job's screenshot in its account's object (all at once); finished or deleted
 * ones are acked, busy ones retried later.
 */
export async function claimCaptures(env: Env, work: CaptureWork[], now: number): Promise<ClaimedCapture[]> {
  const claims = await Promise.all(
    work.map((w) =>
      accountStub(env.ACCOUNT, w.job.account_id)
        .claimCapture(w.job.account_id, w.job.screenshot_id, now)
        .catch((err: unknown) => {
          console.error(
            JSON.stringify({ level: "error", msg: "claim failed", id: w.job.screenshot_id, error: describeError(err) }),
          );
          return { busy: true } as const;
        }),
    ),
  );
  const claimed: ClaimedCapture[] = [];
  for (const [i, w] of work.entries()) {
    const claim = claims[i];
    if (!claim || "busy" in claim) w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
    else if ("done" in claim)
      w.message.ack(); // done, failed or deleted already
    else claimed.push({ ...w, row: claim.claimed });
  }
  return claimed;
}

/** A platform failure: back to `queued` and retried with backoff (the DLQ fails it in the end). */
export async function retryCapture(env: Env, w: ClaimedCapture, err: unknown, now: number) {
  await accountStub(env.ACCOUNT, w.job.account_id)
    .requeueCapture(w.job.account_id, w.row.id, w.row.attempts, describeError(err), now)
    .catch(() => {}); // the sweeper finds a claim that went stale
  w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
}

/**
 * One capture as a task of the batch's browser (lanes.ts): its page opened ahead, navigation
 * and the picture in a page slot, then — while the slot's next page is already being
 * captured — the thumbnail and text from the same page, and the shot stored and the row
 * completed in the account's object. A full-page capture (heavy) finishes in its slot.
 * Target failures end it `failed` at once.
 */
export function captureTask(
  env: Env,
  browser: Browser,
  policy: GuardPolicy,
  w: ClaimedCapture,
  now: () => number,
  trace: PhaseTrace,
): BrowserTask {
  let job: { opts: CaptureOptions; measure: string[] } | undefined;
  let page: Promise<GuardedPage> | undefined;
  let outcome: { shot: Shot } | { error: unknown } = { error: new Error("The capture was not run") };
  let taken: { page: GuardedPage; shot: Shot } | undefined;
  const finish = async () => {
    if (!job || !taken) return;
    const { page: opened, shot } = taken;
    taken = undefined;
    try {
      outcome = { shot: await finishPicture(opened, shot, job.opts, job.measure) };
    } catch (error) {
      outcome = { error };
    }
  };
  try {
    const opts = JSON.parse(w.row.options) as CaptureOptions;
    const detection = w.row.detection ? (JSON.parse(w.row.detection) as ChangeDetection) : null;
    job = { opts, measure: detection?.ignore_selectors ?? [] };
  } catch (error) {
    outcome = { error };
  }
  return {
    heavy: job?.opts.full_page === true,
    async open() {
      if (!job) return;
      page = openCapture(browser, job.opts, w.row.url, policy, trace);
      await page;
    },
    async run() {
      if (!job || !page) return;
      try {
        const opened = await page;
        taken = { page: opened, shot: await takePicture(opened, job.opts, w.row.url, job.measure) };
      } catch (error) {
        outcome = { error };
        return;
      }
      // A heavy page is finished before its slot is given up (one at a time).
      if (job.opts.full_page) await finish();
    },
    finish,
    after: () => finishCapture(env, w, outcome, now, trace),
  };
}

/**
 * After the browser work: stores the shot (or records why there is none) in the account's
 * object, which completes the row, starts its comparison, emits the event and wakes whoever
 * waits for it.
 */
async function finishCapture(
  env: Env,
  w: ClaimedCapture,
  outcome: { shot: Shot } | { error: unknown },
  now: () => number,
  trace: PhaseTrace,
) {
  try {
    if ("error" in outcome) throw outcome.error;
    const traced = { ...env, SHOTS: tracedBucket(env.SHOTS, trace) };
    await trace.span("store", () => storeShot(traced, w.job.account_id, w.row, outcome.shot, null, now()));
    w.message.ack();
  } catch (err) {
    const permanent = permanentError(err);
    if (!permanent) {
      await retryCapture(env, w, err, now());
    } else {
      await accountStub(env.ACCOUNT, w.job.account_id).failCapture(
        w.job.account_id,
        w.row.id,
        w.row.attempts,
        describeError(permanent),
        now(),
      );
      w.message.ack();
    }
  }
  logTrace(env, w.row.id, trace);
}
