import { z } from "@hono/zod-openapi";
import { STEP_STATUSES } from "../lib/values";

/**
 * Scenario steps: a discriminated union on `action`, so an unknown action or a missing
 * field is a 422 with the step's path (`steps.3.selector`). Every step takes `timeout_ms`.
 */
export const MAX_STEPS = 50;
export const DEFAULT_STEP_TIMEOUT_MS = 10_000;
/** `click` with `optional: true` waits this long for the element before skipping. */
export const OPTIONAL_CLICK_WAIT_MS = 2_000;

const selector = z.string().trim().min(1, "Is required").max(500, "Must be at most 500 characters");
const text = z.string().min(1, "Is required").max(1000, "Must be at most 1000 characters");
const base = { timeout_ms: z.number().int().min(100, "Must be ≥ 100").max(60_000, "Must be ≤ 60000").optional() };
const step = <A extends string, S extends z.ZodRawShape>(action: A, shape: S) =>
  z.object({ action: z.literal(action), ...base, ...shape }).strict();

export const StepSchema = z
  .discriminatedUnion("action", [
    step("goto", {
      url: z
        .string()
        .trim()
        .min(1, "Is required")
        .max(2048)
        .openapi({ description: "Absolute, or relative to the website's URL." }),
    }),
    step("click", {
      selector,
      optional: z.boolean().optional().openapi({ description: "Skip the step when the element is absent." }),
    }),
    step("type", {
      selector,
      text: z.string().max(1000, "Must be at most 1000 characters").optional().openapi({
        description: "Required, except on a `secret` step being re-saved: omit it there to keep the stored secret.",
      }),
      secret: z
        .boolean()
        .optional()
        .openapi({ description: "Stored encrypted; never returned by any endpoint or run result." }),
    }),
    step("select", { selector, value: z.string().max(1000) }),
    step("hover", { selector }),
    step("press", { key: z.string().min(1, "Is required").max(32).openapi({ example: "Enter" }) }),
    step("scroll", {
      to: z.string().trim().min(1, "Is required").max(500).openapi({ description: '"bottom" or a selector.' }),
    }),
    step("wait", { ms: z.number().int().min(0, "Must be ≥ 0").max(10_000, "Must be ≤ 10000") }),
    step("wait_for_selector", { selector, state: z.enum(["visible", "hidden", "attached"]).optional() }),
    step("hide", { selector }),
    step("screenshot", {
      name: z.string().trim().min(1, "Is required").max(100),
      full_page: z.boolean().optional(),
      selector: selector.optional(),
      compare: z.boolean().optional().openapi({
        description:
          "Compare with the same-named screenshot of the scenario's latest passed run, with the website's `change_detection` settings; the result is the screenshot's `comparison`.",
      }),
      fail_on_change: z.boolean().optional().openapi({
        description: "A change fails this step (and the run). Implies `compare`.",
      }),
    }),
    step("assert_text", { selector: selector.optional(), contains: text }),
    step("assert_visible", { selector }),
    step("assert_url", { contains: text }),
    step("assert_title", { contains: text }),
  ])
  .openapi("Step");

export type Step = z.infer<typeof StepSchema>;
export type Action = Step["action"];

/** A step as stored: a secret `type` step keeps ciphertext instead of text. */
export type StoredStep = Exclude<Step, { action: "type" }> | (Extract<Step, { action: "type" }> & { sealed?: string });

/** A `type` step whose text is a secret (stored sealed, needs SECRETS_KEY to store or run). */
export const isSecretStep = (s: Step | StoredStep) => s.action === "type" && s.secret === true;

/** A step as any endpoint shows it: never the text of a secret step. */
export function publicStep(s: StoredStep): Record<string, unknown> {
  if (s.action === "type" && s.secret) {
    const { sealed: _sealed, text: _text, ...rest } = s;
    return rest;
  }
  return s;
}

/**
 * Where a `goto` step goes: its URL resolved against the website's. Only http and https
 * navigate (no javascript:, data:, file:, chrome: …); checked when stored and when run.
 */
export function gotoUrl(raw: string, base: string): { ok: true; url: string } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return { ok: false, reason: "Must be a URL, absolute or relative to the website" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, reason: "Must be an http or https URL, or a path relative to the website" };
  return { ok: true, url: url.toString() };
}

/** One step's result in a run, as stored and as the API shows it. */
export const StepResultSchema = z.object({
  index: z.number().int().openapi({
    description:
      "The step's position in `steps`, from 0. Messages and the dashboard number steps from 1 (step `index + 1`).",
  }),
  action: z.string(),
  name: z.string().optional(),
  status: z.enum(STEP_STATUSES).openapi({
    description:
      "`pending` until the run reaches the step, `passed`, `failed`, or `skipped`: passed over on purpose (an optional click whose element was absent) or never reached because the run ended before it (a failed step, an error).",
  }),
  duration_ms: z.number().int(),
  error: z.string().optional(),
  screenshot_id: z.string().optional(),
});
export type StepResult = z.infer<typeof StepResultSchema>;

export const stepTimeout = (s: Step) => s.timeout_ms ?? DEFAULT_STEP_TIMEOUT_MS;
