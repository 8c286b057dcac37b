import { z } from "@hono/zod-openapi";
import { CaptureOptionsSchema } from "../../capture/options";
import { MAX_STEPS, StepResultSchema, StepSchema } from "../../capture/steps";
import { RUN_STATUSES, RUN_TRIGGERS } from "../../lib/values";

export const StepsSchema = z
  .array(StepSchema)
  .min(1, "Give at least one step")
  .max(MAX_STEPS, `At most ${MAX_STEPS} steps`);

export const name = z.string().trim().min(1, "Is required").max(100, "Must be at most 100 characters");

export const timeout = z
  .number()
  .int()
  .min(5_000, "Must be ≥ 5000")
  .max(300_000, "Must be ≤ 300000")
  .openapi({ description: "Overall time budget of a run (default 120000); past it the run ends `error`." });

export const ScenarioSchema = z
  .object({
    id: z.string().openapi({ example: "scn_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    website_id: z.string(),
    name: z.string(),
    // A union, not `.nullable()`: on a referenced schema that documents `allOf: [$ref, {type: [object, null]}]`,
    // which null can never satisfy.
    capture: z.union([CaptureOptionsSchema, z.null()]).openapi({ description: "The scenario's own options, or null." }),
    timeout_ms: z.number().int(),
    steps: z
      .array(z.record(z.string(), z.unknown()))
      .openapi({ description: "The steps; `secret` text is never returned." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Scenario");

export const RunSchema = z
  .object({
    id: z.string().openapi({ example: "run_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    scenario_id: z.string(),
    website_id: z.string(),
    status: z.enum(RUN_STATUSES),
    trigger: z.enum(RUN_TRIGGERS),
    schedule_id: z.string().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    steps: z.array(StepResultSchema),
  })
  .openapi("Run");

export const CreateScenario = z
  .object({
    website_id: z.string().min(1, "Is required"),
    name,
    capture: CaptureOptionsSchema.optional(),
    timeout_ms: timeout.optional(),
    steps: StepsSchema,
  })
  .strict()
  .openapi("CreateScenario");

export const UpdateScenario = z
  .object({
    name: name.optional(),
    capture: CaptureOptionsSchema.nullable()
      .optional()
      .openapi({ description: "Replaces the scenario's options; null removes them." }),
    timeout_ms: timeout.optional(),
    steps: StepsSchema.optional().openapi({ description: "Replaces all steps." }),
  })
  .strict()
  .openapi("UpdateScenario");
