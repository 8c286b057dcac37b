import { createRoute, z } from "@hono/zod-openapi";
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
  CreateWebhook,
  DeliverySchema,
  UpdateWebhook,
  WebhookSchema,
  WebhookWithSecretSchema,
} from "./webhooks.schemas";

const tags = ["Webhooks"];

const params = idParam("Webhook", "whk_01jf8z3k6m9q2w4e6r8t0y2u4i");
const deliveryParams = params.extend({
  delivery_id: z.string().openapi({
    param: { name: "delivery_id", in: "path" },
    description: "Delivery id",
    example: "whd_01jf8z3k6m9q2w4e6r8t0y2u4i",
  }),
});
const disabled = { 409: errorContent("The webhook is disabled (`conflict`), or the Idempotency-Key is in flight.") };

export const create = createRoute({
  method: "post",
  path: "/v1/webhooks",
  operationId: "createWebhook",
  tags,
  security: v1Security,
  summary: "Add a webhook endpoint (its secret is shown once)",
  description:
    "The URL must be https and pass the SSRF guard (422 `url`). Past the plan's endpoint count: 403 " +
    "`plan_limit_reached`. No `Idempotency-Key`: a replay would have to keep the secret.",
  request: { body: jsonBody(CreateWebhook) },
  responses: { 201: json(WebhookWithSecretSchema, "Created, with its secret."), ...v1ErrorResponses },
});

export const list = createRoute({
  method: "get",
  path: "/v1/webhooks",
  operationId: "listWebhooks",
  tags,
  security: v1Security,
  summary: "List webhook endpoints, newest first",
  request: { query: pageQuery },
  responses: {
    200: json(pageSchema(WebhookSchema).openapi("WebhookPage"), "A page of endpoints."),
    ...v1ErrorResponses,
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}",
  operationId: "getWebhook",
  tags,
  security: v1Security,
  summary: "Get a webhook endpoint (never its secret)",
  request: { params },
  responses: { 200: json(WebhookSchema, "The endpoint."), ...v1ErrorResponses },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/webhooks/{id}",
  operationId: "updateWebhook",
  tags,
  security: v1Security,
  summary: "Update a webhook endpoint (partial)",
  request: { params, body: jsonBody(UpdateWebhook) },
  responses: { 200: json(WebhookSchema, "The updated endpoint."), ...v1ErrorResponses },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/webhooks/{id}",
  operationId: "deleteWebhook",
  tags,
  security: v1Security,
  summary: "Delete a webhook endpoint and its deliveries",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

export const rotate = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  tags,
  security: v1Security,
  summary: "Replace the secret; the old one keeps signing next to it for 24 h",
  request: { params },
  responses: { 200: json(WebhookWithSecretSchema, "The endpoint with its new secret."), ...v1ErrorResponses },
});

export const test = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/test",
  operationId: "testWebhook",
  tags,
  security: v1Security,
  summary: "Send a webhook.test event to this endpoint",
  middleware: [idempotent()] as const,
  request: { params, headers: IdempotencyHeader },
  responses: {
    202: json(DeliverySchema, "Queued: the delivery, `pending`."),
    ...v1ErrorResponses,
    ...idempotentResponses,
    ...disabled,
  },
});

export const deliveries = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  tags,
  security: v1Security,
  summary: "The endpoint's deliveries, newest first (kept for the plan's history window)",
  request: { params, query: pageQuery },
  responses: {
    200: json(pageSchema(DeliverySchema).openapi("WebhookDeliveryPage"), "A page of deliveries."),
    ...v1ErrorResponses,
  },
});

export const delivery = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}/deliveries/{delivery_id}",
  operationId: "getWebhookDelivery",
  tags,
  security: v1Security,
  summary: "Get one delivery",
  request: { params: deliveryParams },
  responses: { 200: json(DeliverySchema, "The delivery."), ...v1ErrorResponses },
});

export const redeliver = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
  operationId: "redeliverWebhook",
  tags,
  security: v1Security,
  summary: "Send the same event again (same `webhook-id` and body) as a new delivery",
  middleware: [idempotent()] as const,
  request: { params: deliveryParams, headers: IdempotencyHeader },
  responses: {
    202: json(DeliverySchema, "Queued: the new delivery, `pending`."),
    ...v1ErrorResponses,
    ...idempotentResponses,
    ...disabled,
  },
});
