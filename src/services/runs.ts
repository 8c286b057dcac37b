import { eq } from "drizzle-orm";
import { expectBrowserJobs } from "../capture/browser";
import { isSecretStep, type StepResult } from "../capture/steps";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { listPage, rowById } from "../db/owned";
import { type AccountRecord, type Run, runs, type Scenario } from "../db/schema";
import { iso, isoOrNull } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { requireSecretsKey } from "../lib/secrets";
import type { RunTrigger } from "../lib/values";
import { type CaptureUsage, effectivePlan, subscriptionStatus } from "../limits/subscription";
import { enqueue } from "../queue/messages";
import { getScenario, storedSteps } from "./scenarios";
import type { AccountScope } from "./scope";
import { finishedWithin, runQuotaProblem } from "./screenshots";

export function runView(r: Run) {
  return {
    id: r.id,
    scenario_id: r.scenarioId,
    website_id: r.websiteId,
    status: r.status,
    trigger: r.trigger,
    schedule_id: r.scheduleId,
    error: r.error,
    created_at: iso(r.createdAt),
    started_at: isoOrNull(r.startedAt),
    finished_at: isoOrNull(r.finishedAt),
    duration_ms: r.durationMs,
    steps: JSON.parse(r.steps) as StepResult[],
  };
}

/** Every step `pending` until the run reaches it. */
export const pendingSteps = (scenario: Scenario): StepResult[] =>
  storedSteps(scenario).map((s, index) => ({
    index,
    action: s.action,
    ...(s.action === "screenshot" ? { name: s.name } : {}),
    status: "pending",
    duration_ms: 0,
  }));

export function runRow(
  scenario: Scenario,
  trigger: Run["trigger"],
  now: number,
  scheduleId: string | null = null,
): Run {
  return {
    id: newId("run", now),
    scenarioId: scenario.id,
    websiteId: scenario.websiteId,
    scheduleId,
    trigger,
    status: "queued",
    error: null,
    steps: JSON.stringify(pendingSteps(scenario)),
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
  };
}

/** A queued run; if the job cannot be enqueued the row is removed again. */
export async function queueRun(
  scope: Pick<AccountScope, "db" | "accountId">,
  queue: Queue,
  scenario: Scenario,
  trigger: Run["trigger"],
  now: number,
  scheduleId: string | null = null,
) {
  const { db } = scope;
  const row = runRow(scenario, trigger, now, scheduleId);
  await db.insert(runs).values(row);
  try {
    expectBrowserJobs(1); // before sending: the queue may deliver at once
    await enqueue(queue, { type: "run", run_id: row.id, account_id: scope.accountId });
  } catch (err) {
    expectBrowserJobs(-1);
    await db
      .delete(runs)
      .where(eq(runs.id, row.id))
      .catch(() => {});
    throw err;
  }
  return row;
}

export const getRun = (db: Db, id: string): Promise<Run> => rowById(db, runs, id, "Run");

export const listRuns = (db: Db, scenarioId: string, q: { limit: number; cursor?: string; trigger?: RunTrigger }) =>
  listPage(db, runs, q, runView, eq(runs.scenarioId, scenarioId), q.trigger ? eq(runs.trigger, q.trigger) : undefined);

/**
 * `POST /v1/scenarios/{id}/run`: a run queued, unless it has secret steps and no key to open
 * them (503), or its screenshots would exceed the quota (429). With a wait, `finished` tells
 * whether the row returned is the finished run.
 */
export async function startRun(
  scope: AccountScope,
  queue: Queue,
  account: AccountRecord,
  usage: CaptureUsage,
  scenarioId: string,
  secretsKey: string | undefined,
  now: number,
  waitSeconds?: number,
  trigger: Run["trigger"] = "api",
) {
  const { db } = scope;
  const scenario = await getScenario(db, scenarioId);
  if (storedSteps(scenario).some(isSecretStep)) requireSecretsKey(secretsKey);
  // Screenshot steps count against the capture quota: do not start a run that cannot take one.
  const problem = runQuotaProblem(scenario, effectivePlan(account, now), usage, now);
  if (problem) throw problem;
  const row = await queueRun(scope, queue, scenario, trigger, now);
  const done = waitSeconds
    ? await finishedWithin(scope.completions, waitSeconds, { kind: "run", id: row.id }, () =>
        db.select().from(runs).where(eq(runs.id, row.id)).get(),
      )
    : undefined;
  return { row: done ?? row, finished: done !== undefined };
}

/**
 * "Run" in the dashboard: the same checks as the API's run (secrets key, the capture quota for
 * its screenshot steps, since no gate ran), without the API's per-minute limit; refused
 * while the subscription has expired, as the API is.
 */
export async function startDashboardRun(
  scope: AccountScope,
  queue: Queue,
  account: AccountRecord,
  scenarioId: string,
  secretsKey: string | undefined,
  now: number,
) {
  if (subscriptionStatus(account, now) === "expired") {
    throw new ApiError("subscription_expired", "Your subscription has expired. Renew it to run scenarios again.");
  }
  const usage = scope.quota.usage(now);
  return (await startRun(scope, queue, account, usage, scenarioId, secretsKey, now, undefined, "dashboard")).row;
}

/** A scenario's runs, newest first (404 for another account's scenario). */
export async function listScenarioRuns(
  db: Db,
  scenarioId: string,
  q: { limit: number; cursor?: string; trigger?: RunTrigger },
) {
  const scenario = await getScenario(db, scenarioId);
  return listRuns(db, scenario.id, q);
}
