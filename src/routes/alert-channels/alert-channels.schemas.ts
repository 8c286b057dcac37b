import { z } from "@hono/zod-openapi";
import {
  ALERT_CHANNEL_TYPES,
  ALERT_DELIVERY_KINDS,
  ALERT_EVENT_TYPES,
  ALERT_FREQUENCIES,
  DELIVERY_STATUSES,
} from "../../lib/values";
import { isValidTimezone } from "../../schedules/timing";

const EventList = z
  .array(z.enum(ALERT_EVENT_TYPES))
  .min(1, "Give at least one event type")
  .max(ALERT_EVENT_TYPES.length)
  .openapi({ example: ["change.detected", "screenshot.failed", "recovered"] });

const WebsiteIds = z
  .array(z.string().min(1))
  .max(100, "At most 100 websites")
  .nullable()
  .openapi({ description: "The websites this channel hears of; null: every website (including new ones)." });

export const AlertChannelSchema = z
  .object({
    id: z.string().openapi({ example: "alc_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    type: z.enum(ALERT_CHANNEL_TYPES),
    target: z.string().openapi({ description: "The email address, or the Slack / Discord incoming-webhook URL." }),
    events: EventList,
    website_ids: WebsiteIds,
    frequency: z.enum(ALERT_FREQUENCIES).openapi({
      description:
        "`instant`: each alert as it happens; `daily`: one digest at 08:00 in the account's time zone (nothing when nothing happened).",
    }),
    verified: z.boolean().openapi({
      description:
        "False for an email address outside the team until it confirms (a link is mailed to it); unverified channels send nothing.",
    }),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({
      description: "Why SnapTrack disabled it (unsubscribed, 410 Gone, failing for 5 days, its creator removed).",
    }),
    created_by: z
      .string()
      .nullable()
      .openapi({ description: "The user who added it in the dashboard; null when it came through the API token." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("AlertChannel");

const target = z.string().trim().min(1, "Is required").max(2048, "Must be at most 2048 characters");

export const CreateAlertChannel = z
  .object({
    type: z.enum(ALERT_CHANNEL_TYPES),
    target,
    events: EventList.optional().openapi({ description: "Default: every event type." }),
    website_ids: WebsiteIds.optional(),
    frequency: z.enum(ALERT_FREQUENCIES).optional().openapi({ description: "Default `instant`." }),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("CreateAlertChannel");

export const UpdateAlertChannel = z
  .object({
    target: target.optional().openapi({ description: "A new email address outside the team must be confirmed again." }),
    events: EventList.optional(),
    website_ids: WebsiteIds.optional(),
    frequency: z.enum(ALERT_FREQUENCIES).optional(),
    enabled: z.boolean().optional().openapi({ description: "Enabling again clears `disabled_reason`." }),
  })
  .strict()
  .openapi("UpdateAlertChannel");

export const AlertDeliverySchema = z
  .object({
    id: z.string().openapi({ example: "ald_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    kind: z
      .enum(ALERT_DELIVERY_KINDS)
      .openapi({ description: "An alert, a daily digest, a test, or an address confirmation." }),
    alert_id: z.string().nullable(),
    summary: z.string().openapi({ description: "What it said, in one line (an email's subject)." }),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    last_status_code: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Slack / Discord: the webhook's HTTP status." }),
    last_error: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("AlertDelivery");

export const AlertSettingsSchema = z
  .object({
    timezone: z
      .string()
      .openapi({ example: "Europe/Berlin", description: "IANA time zone: daily digests go out at 08:00 there." }),
  })
  .openapi("AlertSettings");

export const UpdateAlertSettings = z
  .object({
    timezone: z
      .string()
      .trim()
      .min(1, "Is required")
      .max(64)
      .refine(isValidTimezone, "Must be an IANA time zone, e.g. Europe/Berlin"),
  })
  .strict()
  .openapi("UpdateAlertSettings");
