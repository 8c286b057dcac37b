import { createRoute, z } from "@hono/zod-openapi";
import { pageQuery, pageSchema } from "../../db/pagination";
import {
  errorContent,
  IdempotencyHeader,
  idempotentResponses,
  idParam,
  jobResponses,
  json,
  jsonBody,
  PreferHeader,
  v1ErrorResponses,
  v1Security,
} from "../../lib/openapi";
import { RUN_TRIGGERS } from "../../lib/values";
import { idempotent } from "../../middleware/idempotency";
import { CreateScenario, RunSchema, ScenarioSchema, UpdateScenario } from "./scenarios.schemas";

const tags = ["Scenarios"];

const params = idParam("Scenario", "scn_01jf8z3k6m9q2w4e6r8t0y2u4i");

/** Storing or running secret steps needs the server's encryption key. */
const secretsUnavailable = {
  503: errorContent(
    "The rate limiter is unavailable (retry after `Retry-After` seconds), or the scenario has secret steps and the server's encryption key is not configured (`service_unavailable`).",
  ),
};

export const create = createRoute({
  method: "post",
  path: "/v1/scenarios",
  operationId: "createScenario",
  tags,
  security: v1Security,
  summary: "Create a test scenario for a website",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateScenario) },
  responses: {
    201: json(ScenarioSchema, "Created."),
    ...v1ErrorResponses,
    ...idempotentResponses,
    ...secretsUnavailable,
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/scenarios",
  operationId: "listScenarios",
  tags,
  security: v1Security,
  summary: "List scenarios, newest first",
  request: { query: pageQuery.extend({ website_id: z.string().optional() }) },
  responses: {
    200: json(pageSchema(ScenarioSchema).openapi("ScenarioPage"), "A page of scenarios."),
    ...v1ErrorResponses,
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/scenarios/{id}",
  operationId: "getScenario",
  tags,
  security: v1Security,
  summary: "Get a scenario",
  request: { params },
  responses: { 200: json(ScenarioSchema, "The scenario."), ...v1ErrorResponses },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/scenarios/{id}",
  operationId: "updateScenario",
  tags,
  security: v1Security,
  summary: "Update a scenario (partial)",
  request: { params, body: jsonBody(UpdateScenario) },
  responses: { 200: json(ScenarioSchema, "The updated scenario."), ...v1ErrorResponses, ...secretsUnavailable },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/scenarios/{id}",
  operationId: "deleteScenario",
  tags,
  security: v1Security,
  summary: "Delete a scenario with its runs and their screenshots",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

export const run = createRoute({
  method: "post",
  path: "/v1/scenarios/{id}/run",
  operationId: "runScenario",
  tags,
  security: v1Security,
  summary: "Start a run (queued; poll it, or wait with Prefer: wait)",
  middleware: [idempotent()] as const,
  request: { params, headers: IdempotencyHeader.extend(PreferHeader.shape) },
  responses: {
    ...jobResponses(RunSchema, "run"),
    ...v1ErrorResponses,
    ...idempotentResponses,
    ...secretsUnavailable,
  },
});

export const runsOf = createRoute({
  method: "get",
  path: "/v1/scenarios/{id}/runs",
  operationId: "listScenarioRuns",
  tags,
  security: v1Security,
  summary: "A scenario's runs, newest first",
  request: {
    params,
    query: pageQuery.extend({
      trigger: z
        .enum(RUN_TRIGGERS)
        .optional()
        .openapi({ description: "Only runs started this way (`dashboard`: from the dashboard's Run now)." }),
    }),
  },
  responses: { 200: json(pageSchema(RunSchema).openapi("RunPage"), "A page of runs."), ...v1ErrorResponses },
});

export const getRunRoute = createRoute({
  method: "get",
  path: "/v1/runs/{id}",
  operationId: "getRun",
  tags: ["Runs"],
  security: v1Security,
  summary: "Get a run with its per-step results",
  request: { params: idParam("Run", "run_01jf8z3k6m9q2w4e6r8t0y2u4i") },
  responses: { 200: json(RunSchema, "The run."), ...v1ErrorResponses },
});
