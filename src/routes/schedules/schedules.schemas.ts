import { z } from "@hono/zod-openapi";

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

export const cron = z.string().trim().min(1, "Is required").max(120).openapi({
  example: "0 9 * * 1-5",
  description: "5 fields: minute hour day-of-month month day-of-week, in `timezone`.",
});

export const interval = z.number().int().min(1, "Must be ≥ 1").max(525_600, "Must be at most a year");

export const timezone = z
  .string()
  .min(1)
  .max(64)
  .openapi({ example: "Europe/Berlin", description: "IANA time zone for cron (default UTC)." });

export const CreateSchedule = z
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

export const UpdateSchedule = z
  .object({
    cron: cron.nullable().optional(),
    interval_minutes: interval.nullable().optional(),
    timezone: timezone.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("UpdateSchedule");
