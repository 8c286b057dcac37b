import type { Browser } from "@cloudflare/puppeteer";
import { describeError } from "../capture/errors";
import { resolveOptions } from "../capture/options";
import { assertContained, containmentError, type GuardedPage, openPage } from "../capture/page";
import { ChangedShot, type RunHooks, runSteps } from "../capture/runner";
import { isSecretStep, type StepResult } from "../capture/steps";
import type { GuardPolicy } from "../capture/url-guard";
import { parseChangeDetection } from "../compare/settings";
import { config } from "../config";
import { accountStub } from "../db/account-stub";
import type { Run } from "../db/schema";
import { decryptSecret, SECRETS_KEY_MISSING, SECRETS_UNAVAILABLE } from "../lib/secrets";
import type { JobOf } from "../queue/messages";
import type { RunStart } from "../services/run-jobs";
import { pendingSteps } from "../services/runs";
import { storedSteps } from "../services/scenarios";
import { parseCapture } from "../services/websites";
import { retryDelaySeconds, storeShot } from "./capture";
import { compareScenarioShot, type Verdict } from "./compare";

export interface RunWork {
  message: Message<unknown>;
  job: JobOf<"run">;
}
export type ClaimedRun = RunWork & RunStart;

/**
 * Claims each queued run in its account's object. A run still `running` is never executed
 * twice (its steps may have had effects on the site): the object ends one past its deadline
 * as interrupted (done), otherwise the message comes back later.
 */
export async function claimRuns(env: Env, work: RunWork[], now: number): Promise<ClaimedRun[]> {
  const claimed: ClaimedRun[] = [];
  for (const w of work) {
    try {
      const claim = await accountStub(env.ACCOUNT, w.job.account_id).claimRun(w.job.account_id, w.job.run_id, now);
      if ("claimed" in claim) claimed.push({ ...w, ...(claim.claimed as RunStart) });
      else if ("retry" in claim) w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
      else w.message.ack(); // finished or deleted
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
export async function retryRun(env: Env, w: ClaimedRun, err: unknown, now: number) {
  await accountStub(env.ACCOUNT, w.job.account_id)
    .requeueRun(w.job.account_id, w.run.id, describeError(err), now)
    .catch(() => {}); // the sweeper ends a run whose claim went stale
  w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
}

/** Ends the run in its account's object (once), which reports it and wakes its waiters. */
const finish = (env: Env, w: ClaimedRun, fields: Partial<Run>, now: number) =>
  accountStub(env.ACCOUNT, w.job.account_id).finishRun(w.job.account_id, w.run, fields, now);

/** Executes one run in the batch's browser and records every step. */
export async function runTask(env: Env, browser: Browser, policy: GuardPolicy, w: ClaimedRun, now: () => number) {
  const { run: row, scenario, website } = w;
  const accountId = w.job.account_id;
  const account = accountStub(env.ACCOUNT, accountId);
  try {
    const opts = resolveOptions(parseCapture(website.capture), parseCapture(scenario.capture));
    const started = row.startedAt ?? now();
    const steps = storedSteps(scenario);
    const secretsKey = config(env).SECRETS_KEY;
    if (!secretsKey && steps.some(isSecretStep)) {
      // Configuration removed after the run was queued (or a scheduled run): nothing to retry.
      console.error(JSON.stringify({ level: "error", msg: SECRETS_KEY_MISSING, run_id: row.id }));
      await finish(env, w, { status: "error", error: SECRETS_UNAVAILABLE }, now());
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
        const begun = await account.beginRunShot(
          accountId,
          { runId: row.id, scenario, website },
          { index, name, compare: compare !== undefined },
          now(),
        );
        if ("refused" in begun) throw new Error(begun.refused as string);
        const shotRow = begun.row;
        const detection = shotRow.detection ? parseChangeDetection(shotRow.detection) : null;
        const shot = await take(detection?.ignore_selectors ?? []);
        if (page) assertContained(page);
        const stored = await storeShot(env, accountId, shotRow, shot, scenario.id, now());
        if (stored && compare) {
          // fail_on_change needs the answer before the next step: compared here (banded, bounded);
          // otherwise queued, and the run goes on.
          const verdict = await compareScenarioShot(
            env,
            accountId,
            { id: shotRow.id, name },
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
      await account.discardRunShots(accountId, row.id);
    }
    // A secret can surface in a message (a URL, an echoed value): results never carry it.
    const scrub = <T extends string | null | undefined>(text: T): T => redact(text, revealed);
    const results: StepResult[] = pendingSteps(scenario).map((p, i) => {
      const r = { ...p, ...outcome.steps[i] };
      return r.error ? { ...r, error: scrub(r.error) } : r;
    });
    await finish(
      env,
      w,
      { status: outcome.status, error: scrub(outcome.error), steps: JSON.stringify(results) },
      now(),
    );
    w.message.ack();
  } catch (err) {
    // The page could not even be opened, or storage failed: the run ends `error`, not stuck.
    await finish(env, w, { status: "error", error: `The run could not complete: ${describeError(err)}` }, now()).catch(
      () => {},
    );
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
