import type { Browser } from "@cloudflare/puppeteer";
import { and, eq, inArray, sql } from "drizzle-orm";
import { describeError } from "../capture/errors";
import { screenshotObjects } from "../capture/keys";
import { resolveOptions } from "../capture/options";
import { assertContained, containmentError, type GuardedPage, openPage } from "../capture/page";
import { ChangedShot, type RunHooks, runSteps } from "../capture/runner";
import { isSecretStep, type StepResult } from "../capture/steps";
import type { GuardPolicy } from "../capture/url-guard";
import { parseChangeDetection } from "../compare/settings";
import { config } from "../config";
import type { Db } from "../db/client";
import { type Run, runs, scenarios, schedules, screenshots, websites } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { decryptSecret, SECRETS_KEY_MISSING, SECRETS_UNAVAILABLE } from "../lib/secrets";
import type { Limiter } from "../limits/account-limiter";
import { jobCompletions } from "../queue/completion";
import type { JobOf } from "../queue/messages";
import { pendingSteps } from "../services/runs";
import { storedSteps } from "../services/scenarios";
import { screenshotRow } from "../services/screenshots";
import { emitRunFinished, notify } from "../services/webhooks";
import { parseCapture } from "../services/websites";
import { retryDelaySeconds, storeShot } from "./capture";
import { compareScenarioShot, type Verdict } from "./compare";

export interface RunWork {
  message: Message<unknown>;
  job: JobOf<"run">;
}
export type ClaimedRun = RunWork & { row: Run };

/** A `running` run is never considered stopped before this long after it started. */
export const STALE_RUN = 10 * MINUTE;
/**
 * What a live run may take beyond its scenario's budget (`timeoutMs`, counted from the
 * claim): waiting for its turn in the batch's browser, opening the page, storing results.
 */
export const RUN_GRACE = 5 * MINUTE;
/** When a run started at `startedAt` has certainly stopped; past it, it ends interrupted. */
export const runDeadline = (startedAt: number, timeoutMs: number) =>
  startedAt + Math.max(STALE_RUN, timeoutMs + RUN_GRACE);
export const RUN_INTERRUPTED = "The run was interrupted (its worker stopped) and was not repeated";

/** Ends a run (once: only from queued/running) and reports it to webhooks as `run.finished`. */
async function finish(db: Db, row: Run, fields: Partial<Run>, now: number, webhooks?: Queue) {
  const status = fields.status as Run["status"];
  const [done] = await db
    .update(runs)
    .set({ ...fields, finishedAt: now, durationMs: row.startedAt ? now - row.startedAt : null, updatedAt: now })
    .where(and(eq(runs.id, row.id), inArray(runs.status, ["queued", "running"])))
    .returning();
  // A run that stopped part-way leaves no screenshot half-made.
  await db
    .update(screenshots)
    .set({ status: "failed", error: "The run ended before this screenshot was stored", updatedAt: now })
    .where(and(eq(screenshots.runId, row.id), eq(screenshots.status, "processing")));
  if (done?.scheduleId) await db.update(schedules).set({ lastStatus: status }).where(eq(schedules.id, done.scheduleId));
  if (done && webhooks) await notify(`run.finished:${done.id}`, () => emitRunFinished(db, webhooks, done, now));
}

/**
 * Claims queued runs. A run still `running` is never executed twice (its steps may have
 * had effects on the site): past its deadline (runDeadline) it is ended `error` as
 * interrupted, otherwise the message comes back later.
 */
export async function claimRuns(db: Db, work: RunWork[], now: number, webhooks?: Queue): Promise<ClaimedRun[]> {
  const claimed: ClaimedRun[] = [];
  for (const w of work) {
    try {
      const [row] = await db
        .update(runs)
        .set({ status: "running", attempts: sql`${runs.attempts} + 1`, startedAt: now, updatedAt: now })
        .where(and(eq(runs.id, w.job.run_id), eq(runs.status, "queued")))
        .returning();
      if (row) {
        claimed.push({ ...w, row });
        continue;
      }
      const found = await db
        .select({ run: runs, timeoutMs: scenarios.timeoutMs })
        .from(runs)
        .leftJoin(scenarios, eq(scenarios.id, runs.scenarioId))
        .where(eq(runs.id, w.job.run_id))
        .get();
      const existing = found?.run;
      if (existing?.status === "running") {
        if (runDeadline(existing.startedAt ?? 0, found?.timeoutMs ?? 0) < now) {
          await finish(db, existing, { status: "error", error: RUN_INTERRUPTED }, now, webhooks);
          w.message.ack();
        } else {
          w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
        }
      } else {
        w.message.ack(); // finished or deleted
      }
    } catch (err) {
      console.error(
        JSON.stringify({ level: "error", msg: "run claim failed", id: w.job.run_id, error: describeError(err) }),
      );
      w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
    }
  }
  return claimed;
}

/** No browser for the batch: nothing ran yet, so the run goes back to the queue. */
export async function retryRun(db: Db, w: ClaimedRun, err: unknown, now: number) {
  await db
    .update(runs)
    .set({ status: "queued", error: `Retrying: ${describeError(err)}`, updatedAt: now })
    .where(and(eq(runs.id, w.row.id), eq(runs.status, "running")));
  w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
}

/** Executes one run in the batch's browser and records every step. */
export async function runTask(
  env: Env,
  db: Db,
  browser: Browser,
  policy: GuardPolicy,
  limiter: Limiter,
  w: ClaimedRun,
  now: () => number,
) {
  try {
    await executeRun(env, db, browser, policy, limiter, w, now);
  } finally {
    // Ended (or deleted) either way: a request waiting for it (`Prefer: wait`) answers now.
    await jobCompletions(env.JOB_WATCH).notify(w.row.accountId, w.row.id);
  }
}

async function executeRun(
  env: Env,
  db: Db,
  browser: Browser,
  policy: GuardPolicy,
  limiter: Limiter,
  w: ClaimedRun,
  now: () => number,
) {
  const row = w.row;
  try {
    const scenario = await db.select().from(scenarios).where(eq(scenarios.id, row.scenarioId)).get();
    const website = await db.select().from(websites).where(eq(websites.id, row.websiteId)).get();
    if (!scenario || !website) {
      w.message.ack(); // deleted meanwhile (the run row went with them)
      return;
    }
    const opts = resolveOptions(parseCapture(website.capture), parseCapture(scenario.capture));
    const started = row.startedAt ?? now();
    const steps = storedSteps(scenario);
    const secretsKey = config(env).SECRETS_KEY;
    if (!secretsKey && steps.some(isSecretStep)) {
      // Configuration removed after the run was queued (or a scheduled run): nothing to retry.
      console.error(JSON.stringify({ level: "error", msg: SECRETS_KEY_MISSING, run_id: row.id }));
      await finish(db, row, { status: "error", error: SECRETS_UNAVAILABLE }, now(), env.WEBHOOKS);
      w.message.ack();
      return;
    }
    const revealed: string[] = [];
    let page: GuardedPage | undefined;
    const hooks: RunHooks = {
      reveal: async (sealed) => {
        const text = await decryptSecret(secretsKey, sealed, scenario.id);
        revealed.push(text);
        return text;
      },
      async saveShot(index, name, take, compare) {
        const shotRow = screenshotRow(
          {
            website,
            scenarioCapture: parseCapture(scenario.capture),
            source: "scenario",
            status: "processing",
            runId: row.id,
            name,
            stepIndex: index,
            scheduleId: null,
            compare: compare !== undefined,
          },
          now(),
        );
        const quota = await limiter.consume(row.accountId, 1, now());
        if (!quota.ok)
          throw new Error(
            `The ${quota.period === "day" ? "daily" : "monthly"} capture quota of ${quota.limit} is used up`,
          );
        await db.insert(screenshots).values({ ...shotRow, attempts: 1, startedAt: now() });
        const detection = shotRow.detection ? parseChangeDetection(shotRow.detection) : null;
        const shot = await take(detection?.ignore_selectors ?? []);
        if (page) assertContained(page);
        const stored = await storeShot(env, db, { ...shotRow, attempts: 1 }, shot, scenario.id, now());
        if (stored && compare) {
          // fail_on_change needs the answer before the next step: compared here (banded, bounded);
          // otherwise queued, and the run goes on.
          const verdict = await compareScenarioShot(
            env,
            db,
            { id: shotRow.id, accountId: row.accountId, name },
            { id: row.id, scenarioId: scenario.id },
            compare.failOnChange ? browser : null,
            now,
          );
          if (verdict?.changed && compare.failOnChange) throw new ChangedShot(changeMessage(name, verdict), shotRow.id);
        }
        return shotRow.id;
      },
    };
    page = await openPage(browser, new URL(website.url), opts, policy);
    let outcome: Awaited<ReturnType<typeof runSteps>>;
    try {
      outcome = await runSteps(page, steps, {
        baseUrl: website.url,
        opts,
        hooks,
        // The runner measures real time; the budget left is counted on the job's clock.
        deadline: Date.now() + (started + scenario.timeoutMs - now()),
        budgetMs: scenario.timeoutMs,
      });
    } finally {
      await page.close();
    }
    if (page.violations.length > 0) {
      // The page reached a disallowed address: the run fails and keeps none of its screenshots.
      outcome = { ...outcome, status: "failed", error: describeError(containmentError(page)) };
      await discardRunShots(env, db, row.id);
    }
    // A secret can surface in a message (a URL, an echoed value): results never carry it.
    const scrub = <T extends string | null | undefined>(text: T): T => redact(text, revealed);
    const results: StepResult[] = pendingSteps(scenario).map((p, i) => {
      const r = { ...p, ...outcome.steps[i] };
      return r.error ? { ...r, error: scrub(r.error) } : r;
    });
    await finish(
      db,
      row,
      { status: outcome.status, error: scrub(outcome.error), steps: JSON.stringify(results) },
      now(),
      env.WEBHOOKS,
    );
    w.message.ack();
  } catch (err) {
    // The page could not even be opened, or storage failed: the run ends `error`, not stuck.
    await finish(
      db,
      row,
      { status: "error", error: `The run could not complete: ${describeError(err)}` },
      now(),
      env.WEBHOOKS,
    ).catch(() => {});
    w.message.ack();
  }
}

/** What a `fail_on_change` step says when its screenshot changed. */
function changeMessage(name: string, v: Verdict): string {
  const f = v.figures;
  const pct = (n: number) => `${Number((n * 100).toFixed(3))} %`;
  const what = [
    `${f.changed_pixels.toLocaleString("en-US")} pixels changed (${pct(f.change_ratio)} of the compared area, ${pct(f.max_tile_ratio)} of the most changed 64×64 tile)`,
    f.size_changed ? "the size changed" : null,
    f.regions.length > 0
      ? `in ${f.regions.length} region${f.regions.length === 1 ? "" : "s"}, first at x=${f.regions[0]?.x} y=${f.regions[0]?.y} (${f.regions[0]?.width}×${f.regions[0]?.height})`
      : null,
  ].filter(Boolean);
  return `Screenshot "${name}" changed from ${v.baselineId} (the latest passed run's): ${what.join("; ")}`;
}

/** Deletes a run's stored screenshots: bytes first, then rows. */
async function discardRunShots(env: Env, db: Db, runId: string) {
  const rows = await db
    .select({ r2Key: screenshots.r2Key, thumbKey: screenshots.thumbKey, diffKey: screenshots.diffKey })
    .from(screenshots)
    .where(eq(screenshots.runId, runId));
  const keys = rows.flatMap(screenshotObjects);
  if (keys.length > 0) await env.SHOTS.delete(keys);
  await db.delete(screenshots).where(eq(screenshots.runId, runId));
}

/** Every form in which a page, a URL or an error message can show a secret. */
export function secretForms(secret: string): Set<string> {
  const forms = new Set<string>([secret]);
  const percent = [
    encodeURIComponent(secret),
    encodeURIComponent(secret).replaceAll("%20", "+"),
    new URLSearchParams([["", secret]]).toString().slice(1), // form encoding (application/x-www-form-urlencoded)
    encodeURI(secret),
  ];
  for (const form of percent) {
    forms.add(form);
    forms.add(form.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
  }
  const html = (apos: string, quot: string) =>
    secret
      .replaceAll("&", "&amp;")
      .replaceAll("<", "&lt;")
      .replaceAll(">", "&gt;")
      .replaceAll('"', quot)
      .replaceAll("'", apos);
  for (const apos of ["&#39;", "&#x27;", "&apos;", "'"])
    for (const quot of ["&quot;", "&#34;", '"']) forms.add(html(apos, quot));
  const chars = [...secret];
  forms.add(chars.map((c) => `&#${c.codePointAt(0)};`).join(""));
  forms.add(chars.map((c) => `&#x${(c.codePointAt(0) as number).toString(16)};`).join(""));
  const json = JSON.stringify(secret).slice(1, -1);
  forms.add(json);
  forms.add(json.replaceAll("/", "\\/"));
  const u = (c: string) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, "0")}`;
  forms.add(json.replace(/[<>&'\u007f-\uffff]/g, u));
  forms.add(chars.map((c) => (c.length === 1 ? u(c) : c)).join(""));
  forms.delete("");
  return forms;
}

/** Replaces every form of every secret with `[secret]`, longest first. */
export function redact<T extends string | null | undefined>(text: T, secrets: string[]): T {
  if (!text) return text;
  const forms = [...new Set(secrets.filter((s) => s.length > 0).flatMap((s) => [...secretForms(s)]))].sort(
    (a, b) => b.length - a.length,
  );
  let out: string = text;
  for (const form of forms) out = out.split(form).join("[secret]");
  return out as T;
}

/** Dead-lettered run (its retries to get a browser ran out): it ends `error`. */
export async function runGaveUp(db: Db, job: JobOf<"run">, now: number, webhooks?: Queue) {
  const row = await db.select().from(runs).where(eq(runs.id, job.run_id)).get();
  if (!row) return;
  const last = row.error?.replace(/^Retrying: /, "") ?? "the job could not be processed";
  await finish(db, row, { status: "error", error: `Gave up after ${row.attempts} attempts: ${last}` }, now, webhooks);
}
