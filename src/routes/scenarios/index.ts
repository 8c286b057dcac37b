import { createRoute, z } from "@hono/zod-openapi";
import { CaptureOptionsSchema } from "../../capture/options";
import { MAX_STEPS, StepSchema } from "../../capture/steps";
import { config, guardPolicy } from "../../config";
import { getDb } from "../../db/client";
import { pageQuery, pageSchema } from "../../db/pagination";
import { IdempotencyHeader, idempotentResponses, idParam, json, jsonBody, v1ErrorResponses } from "../../lib/openapi";
import { effectivePlan } from "../../limits/subscription";
import { idempotent } from "../../middleware/idempotency";
import { getRun, listRuns, queueRun, runView } from "../../services/runs";
import {
  createScenario,
  deleteScenario,
  getScenario,
  listScenarios,
  scenarioView,
  updateScenario,
} from "../../services/scenarios";
import { runQuotaProblem } from "../../services/screenshots";
import { createRouter } from "../router";

const StepsSchema = z.array(StepSchema).min(1, "Give at least one step").max(MAX_STEPS, `At most ${MAX_STEPS} steps`);
const name = z.string().trim().min(1, "Is required").max(100, "Must be at most 100 characters");
const timeout = z
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

const StepResultSchema = z.object({
  index: z.number().int(),
  action: z.string(),
  name: z.string().optional(),
  status: z.enum(["passed", "failed", "skipped"]),
  duration_ms: z.number().int(),
  error: z.string().optional(),
  screenshot_id: z.string().optional(),
});

export const RunSchema = z
  .object({
    id: z.string().openapi({ example: "run_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    scenario_id: z.string(),
    website_id: z.string(),
    status: z.enum(["queued", "running", "passed", "failed", "error"]),
    trigger: z.enum(["api", "schedule"]),
    schedule_id: z.string().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    steps: z.array(StepResultSchema),
  })
  .openapi("Run");

const CreateScenario = z
  .object({
    website_id: z.string().min(1, "Is required"),
    name,
    capture: CaptureOptionsSchema.optional(),
    timeout_ms: timeout.optional(),
    steps: StepsSchema,
  })
  .strict()
  .openapi("CreateScenario");
const UpdateScenario = z
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

const tags = ["Scenarios"];
const security = [{ bearerAuth: [] }];
const params = idParam("Scenario", "scn_01jf8z3k6m9q2w4e6r8t0y2u4i");

const create = createRoute({
  method: "post",
  path: "/v1/scenarios",
  tags,
  security,
  summary: "Create a test scenario for a website",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateScenario) },
  responses: { 201: json(ScenarioSchema, "Created."), ...v1ErrorResponses, ...idempotentResponses },
});
const list = createRoute({
  method: "get",
  path: "/v1/scenarios",
  tags,
  security,
  summary: "List scenarios, newest first",
  request: { query: pageQuery.extend({ website_id: z.string().optional() }) },
  responses: {
    200: json(pageSchema(ScenarioSchema).openapi("ScenarioPage"), "A page of scenarios."),
    ...v1ErrorResponses,
  },
});
const get = createRoute({
  method: "get",
  path: "/v1/scenarios/{id}",
  tags,
  security,
  summary: "Get a scenario",
  request: { params },
  responses: { 200: json(ScenarioSchema, "The scenario."), ...v1ErrorResponses },
});
const patch = createRoute({
  method: "patch",
  path: "/v1/scenarios/{id}",
  tags,
  security,
  summary: "Update a scenario (partial)",
  request: { params, body: jsonBody(UpdateScenario) },
  responses: { 200: json(ScenarioSchema, "The updated scenario."), ...v1ErrorResponses },
});
const remove = createRoute({
  method: "delete",
  path: "/v1/scenarios/{id}",
  tags,
  security,
  summary: "Delete a scenario with its runs and their screenshots",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});
const run = createRoute({
  method: "post",
  path: "/v1/scenarios/{id}/run",
  tags,
  security,
  summary: "Start a run (queued)",
  middleware: [idempotent()] as const,
  request: { params, headers: IdempotencyHeader },
  responses: { 202: json(RunSchema, "Queued."), ...v1ErrorResponses, ...idempotentResponses },
});
const runsOf = createRoute({
  method: "get",
  path: "/v1/scenarios/{id}/runs",
  tags,
  security,
  summary: "A scenario's runs, newest first",
  request: { params, query: pageQuery },
  responses: { 200: json(pageSchema(RunSchema).openapi("RunPage"), "A page of runs."), ...v1ErrorResponses },
});
const getRunRoute = createRoute({
  method: "get",
  path: "/v1/runs/{id}",
  tags: ["Runs"],
  security,
  summary: "Get a run with its per-step results",
  request: { params: idParam("Run", "run_01jf8z3k6m9q2w4e6r8t0y2u4i") },
  responses: { 200: json(RunSchema, "The run."), ...v1ErrorResponses },
});

export const scenariosRouter = createRouter()
  .openapi(create, async (c) => {
    const row = await createScenario(
      getDb(c.env.DB),
      c.get("account").id,
      c.req.valid("json"),
      config(c.env).SECRETS_KEY,
      guardPolicy(c.env),
      c.get("now"),
    );
    c.header("Location", `/v1/scenarios/${row.id}`);
    return c.json(scenarioView(row), 201);
  })
  .openapi(list, async (c) =>
    c.json(await listScenarios(getDb(c.env.DB), c.get("account").id, c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(scenarioView(await getScenario(getDb(c.env.DB), c.get("account").id, c.req.valid("param").id)), 200),
  )
  .openapi(patch, async (c) => {
    const row = await updateScenario(
      getDb(c.env.DB),
      c.get("account").id,
      c.req.valid("param").id,
      c.req.valid("json"),
      config(c.env).SECRETS_KEY,
      guardPolicy(c.env),
      c.get("now"),
    );
    return c.json(scenarioView(row), 200);
  })
  .openapi(remove, async (c) => {
    await deleteScenario(getDb(c.env.DB), c.env.JOBS, c.get("account").id, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(run, async (c) => {
    const db = getDb(c.env.DB);
    const now = c.get("now");
    const scenario = await getScenario(db, c.get("account").id, c.req.valid("param").id);
    // Screenshot steps count against the capture quota: do not start a run that cannot take one.
    const problem = runQuotaProblem(scenario, effectivePlan(c.get("account"), now), c.get("usage"), now);
    if (problem) throw problem;
    const row = await queueRun(db, c.env.JOBS, scenario, "api", now);
    c.header("Location", `/v1/runs/${row.id}`);
    return c.json(runView(row), 202);
  })
  .openapi(runsOf, async (c) => {
    const db = getDb(c.env.DB);
    const accountId = c.get("account").id;
    const scenario = await getScenario(db, accountId, c.req.valid("param").id);
    return c.json(await listRuns(db, accountId, scenario.id, c.req.valid("query")), 200);
  })
  .openapi(getRunRoute, async (c) =>
    c.json(runView(await getRun(getDb(c.env.DB), c.get("account").id, c.req.valid("param").id)), 200),
  );
