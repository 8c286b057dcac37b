import { config, guardPolicy } from "../../config";
import { preferredWait } from "../../lib/prefer";
import { getRun, listScenarioRuns, runView, startRun } from "../../services/runs";
import {
  createScenario,
  deleteScenario,
  getScenario,
  listScenarios,
  scenarioView,
  updateScenario,
} from "../../services/scenarios";
import type { AppRouteHandler } from "../types";
import type * as routes from "./scenarios.routes";

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const row = await createScenario(
    c.get("db"),
    c.req.valid("json"),
    config(c.env).SECRETS_KEY,
    guardPolicy(c.env),
    c.get("now"),
  );
  c.header("Location", `/v1/scenarios/${row.id}`);
  return c.json(scenarioView(row), 201);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) =>
  c.json(await listScenarios(c.get("db"), c.req.valid("query")), 200);

export const get: AppRouteHandler<typeof routes.get> = async (c) =>
  c.json(scenarioView(await getScenario(c.get("db"), c.req.valid("param").id)), 200);

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const row = await updateScenario(
    c.get("db"),
    c.req.valid("param").id,
    c.req.valid("json"),
    config(c.env).SECRETS_KEY,
    guardPolicy(c.env),
    c.get("now"),
  );
  return c.json(scenarioView(row), 200);
};

export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  await deleteScenario(c.get("db"), c.env.JOBS, c.get("account").id, c.req.valid("param").id);
  return c.body(null, 204);
};

export const run: AppRouteHandler<typeof routes.run> = async (c) => {
  const wait = preferredWait(c.req.header("Prefer"));
  const { row, finished } = await startRun(
    c.get("scope"),
    c.env.JOBS,
    c.get("account"),
    c.get("usage"),
    c.req.valid("param").id,
    config(c.env).SECRETS_KEY,
    c.get("now"),
    wait,
  );
  c.header("Location", `/v1/runs/${row.id}`);
  c.header("Vary", "Prefer", { append: true });
  if (!finished) return c.json(runView(row), 202);
  c.header("Preference-Applied", `wait=${wait}`);
  return c.json(runView(row), 200);
};

export const runsOf: AppRouteHandler<typeof routes.runsOf> = async (c) =>
  c.json(await listScenarioRuns(c.get("db"), c.req.valid("param").id, c.req.valid("query")), 200);

export const getRunRoute: AppRouteHandler<typeof routes.getRunRoute> = async (c) =>
  c.json(runView(await getRun(c.get("db"), c.req.valid("param").id)), 200);
