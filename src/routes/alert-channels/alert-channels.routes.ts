import { createRoute } from "@hono/zod-openapi";
import { pageQuery, pageSchema } from "../../db/pagination";
import {
  errorContent,
  IdempotencyHeader,
  idempotentResponses,
  idParam,
  json,
  jsonBody,
  v1ErrorResponses,
  v1Security,
} from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import {
  AlertChannelSchema,
  AlertDeliverySchema,
  AlertSettingsSchema,
  CreateAlertChannel,
  UpdateAlertChannel,
  UpdateAlertSettings,
} from "./alert-channels.schemas";

const tags = ["Alerts"];
const params = idParam("Alert channel", "alc_01jf8z3k6m9q2w4e6r8t0y2u4i");
const refused = {
  409: errorContent(
    "The channel is disabled or its address not confirmed (`conflict`), or the Idempotency-Key is in flight.",
  ),
};

export const create = createRoute({
  method: "post",
  path: "/v1/alert-channels",
  operationId: "createAlertChannel",
  tags,
  security: v1Security,
  summary: "Add an alert channel (email, Slack or Discord)",
  description:
    "Email goes through Cloudflare's Email Service; an address that is not one of the account's users' gets a confirmation link first and receives nothing until it confirms (`verified: false`). Slack and Discord URLs must be their incoming-webhook URLs (https, the SSRF guard: 422 `target`). Past the plan's channel count: 403 `plan_limit_reached`.",
  middleware: [idempotent()] as const,
  request: { body: jsonBody(CreateAlertChannel), headers: IdempotencyHeader },
  responses: { 201: json(AlertChannelSchema, "Created."), ...v1ErrorResponses, ...idempotentResponses },
});

export const list = createRoute({
  method: "get",
  path: "/v1/alert-channels",
  operationId: "listAlertChannels",
  tags,
  security: v1Security,
  summary: "List alert channels, newest first",
  request: { query: pageQuery },
  responses: {
    200: json(pageSchema(AlertChannelSchema).openapi("AlertChannelPage"), "A page of channels."),
    ...v1ErrorResponses,
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/alert-channels/{id}",
  operationId: "getAlertChannel",
  tags,
  security: v1Security,
  summary: "Get an alert channel",
  request: { params },
  responses: { 200: json(AlertChannelSchema, "The channel."), ...v1ErrorResponses },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/alert-channels/{id}",
  operationId: "updateAlertChannel",
  tags,
  security: v1Security,
  summary: "Update an alert channel (partial)",
  request: { params, body: jsonBody(UpdateAlertChannel) },
  responses: { 200: json(AlertChannelSchema, "The updated channel."), ...v1ErrorResponses },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/alert-channels/{id}",
  operationId: "deleteAlertChannel",
  tags,
  security: v1Security,
  summary: "Delete an alert channel and its delivery log",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

export const test = createRoute({
  method: "post",
  path: "/v1/alert-channels/{id}/test",
  operationId: "testAlertChannel",
  tags,
  security: v1Security,
  summary: "Send a test alert to this channel",
  middleware: [idempotent()] as const,
  request: { params, headers: IdempotencyHeader },
  responses: {
    202: json(AlertDeliverySchema, "Queued: the delivery, `pending`."),
    ...v1ErrorResponses,
    ...idempotentResponses,
    ...refused,
  },
});

export const deliveries = createRoute({
  method: "get",
  path: "/v1/alert-channels/{id}/deliveries",
  operationId: "listAlertDeliveries",
  tags,
  security: v1Security,
  summary: "The channel's delivery log, newest first (kept for the plan's history window)",
  description:
    "Every alert, digest, test and address confirmation sent to the channel, with its attempts. Slack and Discord are retried like webhooks (5 s, 5 min, 30 min, 2 h, 5 h, 10 h).",
  request: { params, query: pageQuery },
  responses: {
    200: json(pageSchema(AlertDeliverySchema).openapi("AlertDeliveryPage"), "A page of deliveries."),
    ...v1ErrorResponses,
  },
});

export const settings = createRoute({
  method: "get",
  path: "/v1/alert-settings",
  operationId: "getAlertSettings",
  tags,
  security: v1Security,
  summary: "The account's alert settings (the time zone of daily digests)",
  responses: { 200: json(AlertSettingsSchema, "The settings."), ...v1ErrorResponses },
});

export const updateSettings = createRoute({
  method: "patch",
  path: "/v1/alert-settings",
  operationId: "updateAlertSettings",
  tags,
  security: v1Security,
  summary: "Set the time zone daily digests follow (08:00 there)",
  request: { body: jsonBody(UpdateAlertSettings) },
  responses: { 200: json(AlertSettingsSchema, "The settings."), ...v1ErrorResponses },
});
