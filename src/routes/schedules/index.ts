import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { pageQuery, pageSchema } from "../../db/pagination";
import { IdempotencyHeader, idempotentResponses, idParam, json, jsonBody, v1ErrorResponses } from "../../lib/openapi";
import { effectivePlan } from "../../limits/subscription";
import { idempotent } from "../../middleware/idempotency";
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  scheduleView,
  updateSchedule,
} from "../../services/schedules";
import { createRouter } from "../router";

export const ScheduleSchema = z
  .object({
    id: z.string().openapi({ example: "sch_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    website_id: z.string().nullable(),
    scenario_id: z.string().nullable(),
    cron: z.string().nullable(),
    interval_minutes: z.number().int().nullable(),
    timezone: z.string(),
    enabled: z.boolean(),
    paused_reason: z
      .string()
      .nullable()
      .openapi({ description: "Why SnapTrack paused it (e.g. too fast after a downgrade)." }),
    next_run_at: z.string().nullable(),
    last_run_at: z.string().nullable(),
    last_status: z
      .string()
      .nullable()
      .openapi({ description: "queued, completed, failed, passed, error, or skipped: <reason>." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Schedule");

const cron = z
  .string()
  .trim()
  .min(9, "Is not a valid 5-field cron expression")
  .max(120)
  .openapi({ example: "0 9 * * 1-5" });
const interval = z.number().int().min(1, "Must be ≥ 1").max(525_600, "Must be at most a year");
const timezone = z
  .string()
  .min(1)
  .max(64)
  .openapi({ example: "Europe/Berlin", description: "IANA time zone for cron (default UTC)." });

const CreateSchedule = z
  .object({
    website_id: z.string().optional(),
    scenario_id: z.string().optional(),
    cron: cron.optional(),
    interval_minutes: interval.optional(),
    timezone: timezone.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("CreateSchedule");
const UpdateSchedule = z
  .object({
    cron: cron.nullable().optional(),
    interval_minutes: interval.nullable().optional(),
    timezone: timezone.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("UpdateSchedule");

const tags = ["Schedules"];
const security = [{ bearerAuth: [] }];
const params = idParam("Schedule", "sch_01jf8z3k6m9q2w4e6r8t0y2u4i");

const create = createRoute({
  method: "post",
  path: "/v1/schedules",
  tags,
  security,
  summary: "Schedule captures of a website or runs of a scenario",
  description:
    "Exactly one of `website_id`/`scenario_id` and one of `cron` (5 fields, in `timezone`)/`interval_minutes`.",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateSchedule) },
  responses: { 201: json(ScheduleSchema, "Created."), ...v1ErrorResponses, ...idempotentResponses },
});
const list = createRoute({
  method: "get",
  path: "/v1/schedules",
  tags,
  security,
  summary: "List schedules, newest first",
  request: { query: pageQuery.extend({ website_id: z.string().optional(), scenario_id: z.string().optional() }) },
  responses: {
    200: json(pageSchema(ScheduleSchema).openapi("SchedulePage"), "A page of schedules."),
    ...v1ErrorResponses,
  },
});
const get = createRoute({
  method: "get",
  path: "/v1/schedules/{id}",
  tags,
  security,
  summary: "Get a schedule",
  request: { params },
  responses: { 200: json(ScheduleSchema, "The schedule."), ...v1ErrorResponses },
});
const patch = createRoute({
  method: "patch",
  path: "/v1/schedules/{id}",
  tags,
  security,
  summary: "Update a schedule (partial); enabling checks the plan again",
  request: { params, body: jsonBody(UpdateSchedule) },
  responses: { 200: json(ScheduleSchema, "The updated schedule."), ...v1ErrorResponses },
});
const remove = createRoute({
  method: "delete",
  path: "/v1/schedules/{id}",
  tags,
  security,
  summary: "Delete a schedule",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

export const schedulesRouter = createRouter()
  .openapi(create, async (c) => {
    const now = c.get("now");
    const account = c.get("account");
    const row = await createSchedule(
      getDb(c.env.DB),
      account.id,
      effectivePlan(account, now),
      c.req.valid("json"),
      now,
    );
    c.header("Location", `/v1/schedules/${row.id}`);
    return c.json(scheduleView(row), 201);
  })
  .openapi(list, async (c) =>
    c.json(await listSchedules(getDb(c.env.DB), c.get("account").id, c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(scheduleView(await getSchedule(getDb(c.env.DB), c.get("account").id, c.req.valid("param").id)), 200),
  )
  .openapi(patch, async (c) => {
    const now = c.get("now");
    const account = c.get("account");
    const row = await updateSchedule(
      getDb(c.env.DB),
      account.id,
      effectivePlan(account, now),
      c.req.valid("param").id,
      c.req.valid("json"),
      now,
    );
    return c.json(scheduleView(row), 200);
  })
  .openapi(remove, async (c) => {
    await deleteSchedule(getDb(c.env.DB), c.get("account").id, c.req.valid("param").id);
    return c.body(null, 204);
  });
