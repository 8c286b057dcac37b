import { eq, inArray } from "drizzle-orm";
import { scenarioPrefix } from "../capture/keys";
import type { CaptureOptionsInput } from "../capture/options";
import { gotoUrl, publicStep, type Step, type StoredStep } from "../capture/steps";
import { checkUrl, type GuardPolicy } from "../capture/url-guard";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { listPage, rowById, updateById } from "../db/owned";
import { runs, type Scenario, scenarios, screenshots } from "../db/schema";
import { iso } from "../lib/clock";
import { type FieldErrors, validationError } from "../lib/errors";
import { encryptSecret } from "../lib/secrets";
import { DEFAULT_RUN_TIMEOUT_MS } from "../lib/values";
import { enqueue } from "../queue/messages";
import { getWebsite, storedCapture } from "./websites";

export function scenarioView(s: Scenario) {
  return {
    id: s.id,
    website_id: s.websiteId,
    name: s.name,
    capture: s.capture ? storedCapture(s.capture) : null,
    timeout_ms: s.timeoutMs,
    steps: (JSON.parse(s.steps) as StoredStep[]).map(publicStep),
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}

export const storedSteps = (s: Scenario) => JSON.parse(s.steps) as StoredStep[];

/**
 * Steps as they are stored: secret text sealed with the scenario id as context. A secret
 * step sent without text keeps the secret stored at the same position (so a scenario read
 * back and saved again keeps its secrets), provided that position held a secret `type` step.
 */
async function sealSteps(
  steps: Step[],
  scenarioId: string,
  key: string | undefined,
  previous: StoredStep[] = [],
): Promise<StoredStep[]> {
  const errors: FieldErrors = {};
  const out: StoredStep[] = [];
  for (const [i, step] of steps.entries()) {
    if (step.action !== "type") {
      out.push(step);
      continue;
    }
    if (!step.secret) {
      if (step.text === undefined) errors[`steps.${i}.text`] = ["Is required"];
      out.push(step);
      continue;
    }
    const { text, ...rest } = step;
    if (text !== undefined) {
      out.push({ ...rest, sealed: await encryptSecret(key, text, scenarioId) });
      continue;
    }
    const kept = previous[i];
    if (kept?.action === "type" && kept.secret && kept.sealed) out.push({ ...rest, sealed: kept.sealed });
    else errors[`steps.${i}.text`] = ["Is required (no stored secret at this position to keep)"];
  }
  if (Object.keys(errors).length > 0) throw validationError(errors);
  return out;
}

/** Every `goto` step: http(s) only, resolved against the website, and past the SSRF guard. */
async function checkGotoSteps(steps: Step[], websiteUrl: string, policy: GuardPolicy): Promise<void> {
  const errors: FieldErrors = {};
  for (const [i, step] of steps.entries()) {
    if (step.action !== "goto") continue;
    const target = gotoUrl(step.url, websiteUrl);
    const verdict = target.ok ? await checkUrl(target.url, policy, "storing") : target;
    if (!verdict.ok) errors[`steps.${i}.url`] = [verdict.reason];
  }
  if (Object.keys(errors).length > 0) throw validationError(errors);
}

export interface ScenarioInput {
  website_id: string;
  name: string;
  capture?: CaptureOptionsInput;
  timeout_ms?: number;
  steps: Step[];
}

export async function createScenario(
  db: Db,
  input: ScenarioInput,
  secretsKey: string | undefined,
  policy: GuardPolicy,
  now: number,
) {
  const website = await getWebsite(db, input.website_id);
  await checkGotoSteps(input.steps, website.url, policy);
  const id = newId("scenario", now);
  const [row] = await db
    .insert(scenarios)
    .values({
      id,
      websiteId: input.website_id,
      name: input.name,
      capture: input.capture ? JSON.stringify(input.capture) : null,
      timeoutMs: input.timeout_ms ?? DEFAULT_RUN_TIMEOUT_MS,
      steps: JSON.stringify(await sealSteps(input.steps, id, secretsKey)),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row as Scenario;
}

export const getScenario = (db: Db, id: string): Promise<Scenario> => rowById(db, scenarios, id, "Scenario");

export const listScenarios = (db: Db, q: { limit: number; cursor?: string; website_id?: string }) =>
  listPage(db, scenarios, q, scenarioView, q.website_id ? eq(scenarios.websiteId, q.website_id) : undefined);

export async function updateScenario(
  db: Db,
  id: string,
  patch: Partial<Omit<ScenarioInput, "website_id" | "capture">> & { capture?: CaptureOptionsInput | null },
  secretsKey: string | undefined,
  policy: GuardPolicy,
  now: number,
) {
  const current = await getScenario(db, id);
  if (patch.steps !== undefined) {
    const website = await getWebsite(db, current.websiteId);
    await checkGotoSteps(patch.steps, website.url, policy);
  }
  const set: Partial<Scenario> = { updatedAt: now };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.capture !== undefined) set.capture = patch.capture === null ? null : JSON.stringify(patch.capture);
  if (patch.timeout_ms !== undefined) set.timeoutMs = patch.timeout_ms;
  if (patch.steps !== undefined)
    set.steps = JSON.stringify(await sealSteps(patch.steps, id, secretsKey, storedSteps(current)));
  return updateById(db, scenarios, id, set, "Scenario");
}

/** The scenario, its runs and their screenshots (rows now, R2 bytes by prefix in the background). */
export async function deleteScenario(db: Db, queue: Queue, accountId: string, id: string) {
  const scenario = await getScenario(db, id);
  const runIds = db.select({ id: runs.id }).from(runs).where(eq(runs.scenarioId, id));
  db.transaction((tx) => {
    tx.delete(screenshots).where(inArray(screenshots.runId, runIds)).run();
    tx.delete(scenarios).where(eq(scenarios.id, id)).run();
  });
  await enqueue(queue, { type: "purge_prefix", prefix: scenarioPrefix(accountId, scenario.websiteId, id) });
}
