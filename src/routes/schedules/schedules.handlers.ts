import { effectivePlan } from "../../limits/subscription";
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  scheduleView,
  updateSchedule,
} from "../../services/schedules";
import type { AppRouteHandler } from "../types";
import type * as routes from "./schedules.routes";

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const now = c.get("now");
  const account = c.get("account");
  const row = await createSchedule(c.get("db"), effectivePlan(account, now), c.req.valid("json"), now);
  c.header("Location", `/v1/schedules/${row.id}`);
  return c.json(scheduleView(row), 201);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) =>
  c.json(await listSchedules(c.get("db"), c.req.valid("query")), 200);

export const get: AppRouteHandler<typeof routes.get> = async (c) =>
  c.json(scheduleView(await getSchedule(c.get("db"), c.req.valid("param").id)), 200);

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const now = c.get("now");
  const account = c.get("account");
  const row = await updateSchedule(
    c.get("db"),
    effectivePlan(account, now),
    c.req.valid("param").id,
    c.req.valid("json"),
    now,
  );
  return c.json(scheduleView(row), 200);
};

export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  await deleteSchedule(c.get("db"), c.req.valid("param").id);
  return c.body(null, 204);
};
