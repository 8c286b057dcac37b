import { config, guardPolicy } from "../../config";
import { effectivePlan } from "../../limits/subscription";
import {
  createWebhook,
  deleteWebhook,
  deliveryView,
  getDelivery,
  getWebhook,
  listDeliveries,
  listWebhooks,
  redeliver as redeliverEvent,
  rotateWebhookSecret,
  sendTestEvent,
  updateWebhook,
  webhookView,
} from "../../services/webhooks";
import type { AppRouteHandler } from "../types";
import type * as routes from "./webhooks.routes";

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const now = c.get("now");
  const account = c.get("account");
  const { webhook, secret } = await createWebhook(
    c.get("db"),
    config(c.env).SECRETS_KEY,
    effectivePlan(account, now),
    c.req.valid("json"),
    guardPolicy(c.env),
    now,
  );
  c.header("Location", `/v1/webhooks/${webhook.id}`);
  return c.json({ ...webhookView(webhook), secret }, 201);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) =>
  c.json(await listWebhooks(c.get("db"), c.req.valid("query")), 200);

export const get: AppRouteHandler<typeof routes.get> = async (c) =>
  c.json(webhookView(await getWebhook(c.get("db"), c.req.valid("param").id)), 200);

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const row = await updateWebhook(
    c.get("db"),
    c.req.valid("param").id,
    c.req.valid("json"),
    guardPolicy(c.env),
    c.get("now"),
  );
  return c.json(webhookView(row), 200);
};

export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  await deleteWebhook(c.get("db"), c.req.valid("param").id);
  return c.body(null, 204);
};

export const rotate: AppRouteHandler<typeof routes.rotate> = async (c) => {
  const { webhook, secret } = await rotateWebhookSecret(
    c.get("db"),
    config(c.env).SECRETS_KEY,
    c.req.valid("param").id,
    c.get("now"),
  );
  return c.json({ ...webhookView(webhook), secret }, 200);
};

export const test: AppRouteHandler<typeof routes.test> = async (c) => {
  const id = c.req.valid("param").id;
  const row = await sendTestEvent(c.get("db"), c.env.WEBHOOKS, c.get("account").id, id, c.get("now"));
  c.header("Location", `/v1/webhooks/${id}/deliveries/${row.id}`);
  return c.json(deliveryView(row), 202);
};

export const deliveries: AppRouteHandler<typeof routes.deliveries> = async (c) =>
  c.json(await listDeliveries(c.get("db"), c.req.valid("param").id, c.req.valid("query")), 200);

export const delivery: AppRouteHandler<typeof routes.delivery> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  return c.json(deliveryView(await getDelivery(c.get("db"), id, delivery_id)), 200);
};

export const redeliver: AppRouteHandler<typeof routes.redeliver> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  const row = await redeliverEvent(c.get("db"), c.env.WEBHOOKS, c.get("account").id, id, delivery_id, c.get("now"));
  c.header("Location", `/v1/webhooks/${id}/deliveries/${row.id}`);
  return c.json(deliveryView(row), 202);
};
