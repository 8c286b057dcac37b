import { z } from "@hono/zod-openapi";
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from "../../lib/values";

const EventType = z.enum(WEBHOOK_EVENT_TYPES).openapi("WebhookEventType");
const EventFilter = z
  .array(z.enum(["*", ...WEBHOOK_EVENT_TYPES]))
  .min(1, 'Give at least one event type, or ["*"]')
  .max(WEBHOOK_EVENT_TYPES.length)
  .openapi({
    example: ["screenshot.completed", "screenshot.failed"],
    description: 'Event types to receive, or `["*"]` for all.',
  });

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "whk_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    url: z.string().openapi({ example: "https://example.com/hooks/snaptrack" }),
    events: EventFilter,
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabled_reason: z
      .string()
      .nullable()
      .openapi({ description: "Why SnapTrack disabled it (410 Gone, failing for 5 days); null otherwise." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Webhook");

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    description: "`whsec_` + base64 of 32 bytes. Shown only in this answer: store it now.",
  }),
}).openapi("WebhookWithSecret");

const url = z.string().trim().min(1, "Is required").max(2048, "Must be at most 2048 characters");
const description = z.string().max(500, "Must be at most 500 characters").nullable();

export const CreateWebhook = z
  .object({
    url,
    events: EventFilter.optional().openapi({ description: 'Default `["*"]`.' }),
    description: description.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("CreateWebhook");

export const UpdateWebhook = z
  .object({
    url: url.optional(),
    events: EventFilter.optional(),
    description: description.optional(),
    enabled: z.boolean().optional().openapi({ description: "Enabling again clears `disabled_reason`." }),
  })
  .strict()
  .openapi("UpdateWebhook");

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ example: "whd_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    event_id: z.string().openapi({ description: "The `webhook-id` header: the same on every attempt and redelivery." }),
    type: EventType,
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("WebhookDelivery");
