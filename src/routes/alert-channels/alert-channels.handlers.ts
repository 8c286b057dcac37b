import { guardPolicy } from "../../config";
import { effectivePlan } from "../../limits/subscription";
import {
  alertChannelView,
  createAlertChannel,
  deleteAlertChannel,
  getAlertChannel,
  listAlertChannels,
  teamEmails,
  updateAlertChannel,
} from "../../services/alert-channels";
import {
  accountTimezone,
  alertDeliveryView,
  listAlertDeliveries,
  sendTestAlert,
  sendVerification,
  setAccountTimezone,
} from "../../services/alerts";
import type { AppRouteHandler } from "../types";
import type * as routes from "./alert-channels.routes";

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const now = c.get("now");
  const account = c.get("account");
  const db = c.get("db");
  const { channel, verifyToken } = await createAlertChannel(
    db,
    account.id,
    effectivePlan(account, now),
    c.req.valid("json"),
    {
      policy: guardPolicy(c.env),
      team: await teamEmails(c.get("directory"), account.id),
      createdBy: null, // the API token is the account's, not a person's
      now,
    },
  );
  if (verifyToken) await sendVerification(c.env, db, account.name, channel, verifyToken, now);
  c.header("Location", `/v1/alert-channels/${channel.id}`);
  return c.json(alertChannelView(channel), 201);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) =>
  c.json(await listAlertChannels(c.get("db"), c.req.valid("query")), 200);

export const get: AppRouteHandler<typeof routes.get> = async (c) =>
  c.json(alertChannelView(await getAlertChannel(c.get("db"), c.req.valid("param").id)), 200);

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const now = c.get("now");
  const account = c.get("account");
  const db = c.get("db");
  const { channel, verifyToken } = await updateAlertChannel(
    db,
    account.id,
    c.req.valid("param").id,
    c.req.valid("json"),
    {
      policy: guardPolicy(c.env),
      team: await teamEmails(c.get("directory"), account.id),
      now,
    },
  );
  if (verifyToken) await sendVerification(c.env, db, account.name, channel, verifyToken, now);
  return c.json(alertChannelView(channel), 200);
};

export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  await deleteAlertChannel(c.get("db"), c.req.valid("param").id);
  return c.body(null, 204);
};

export const test: AppRouteHandler<typeof routes.test> = async (c) => {
  const id = c.req.valid("param").id;
  const row = await sendTestAlert(c.get("db"), c.env.WEBHOOKS, c.get("account").id, id, c.get("now"));
  c.header("Location", `/v1/alert-channels/${id}/deliveries`);
  return c.json(alertDeliveryView(row), 202);
};

export const deliveries: AppRouteHandler<typeof routes.deliveries> = async (c) =>
  c.json(await listAlertDeliveries(c.get("db"), c.req.valid("param").id, c.req.valid("query")), 200);

export const settings: AppRouteHandler<typeof routes.settings> = async (c) =>
  c.json({ timezone: await accountTimezone(c.get("db")) }, 200);

export const updateSettings: AppRouteHandler<typeof routes.updateSettings> = async (c) => {
  const { timezone } = c.req.valid("json");
  await setAccountTimezone(c.get("db"), timezone, c.get("now"));
  return c.json({ timezone }, 200);
};
