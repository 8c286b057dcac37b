import { createRoute, z } from "@hono/zod-openapi";
import { pageQuery, pageSchema } from "../../db/pagination";
import {
  IdempotencyHeader,
  idempotentResponses,
  idParam,
  json,
  jsonBody,
  v1ErrorResponses,
  v1Security,
} from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { CreateSchedule, ScheduleSchema, UpdateSchedule } from "./schedules.schemas";

const tags = ["Schedules"];

const params = idParam("Schedule", "sch_01jf8z3k6m9q2w4e6r8t0y2u4i");

export const create = createRoute({
  method: "post",
  path: "/v1/schedules",
  operationId: "createSchedule",
  tags,
  security: v1Security,
  summary: "Schedule captures of a website or runs of a scenario",
  description:
    "Exactly one of `website_id`/`scenario_id` and one of `cron` (5 fields, in `timezone`)/`interval_minutes`.",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateSchedule) },
  responses: { 201: json(ScheduleSchema, "Created."), ...v1ErrorResponses, ...idempotentResponses },
});

export const list = createRoute({
  method: "get",
  path: "/v1/schedules",
  operationId: "listSchedules",
  tags,
  security: v1Security,
  summary: "List schedules, newest first",
  request: { query: pageQuery.extend({ website_id: z.string().optional(), scenario_id: z.string().optional() }) },
  responses: {
    200: json(pageSchema(ScheduleSchema).openapi("SchedulePage"), "A page of schedules."),
    ...v1ErrorResponses,
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/schedules/{id}",
  operationId: "getSchedule",
  tags,
  security: v1Security,
  summary: "Get a schedule",
  request: { params },
  responses: { 200: json(ScheduleSchema, "The schedule."), ...v1ErrorResponses },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/schedules/{id}",
  operationId: "updateSchedule",
  tags,
  security: v1Security,
  summary: "Update a schedule (partial); enabling checks the plan again",
  request: { params, body: jsonBody(UpdateSchedule) },
  responses: { 200: json(ScheduleSchema, "The updated schedule."), ...v1ErrorResponses },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/schedules/{id}",
  operationId: "deleteSchedule",
  tags,
  security: v1Security,
  summary: "Delete a schedule",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});
