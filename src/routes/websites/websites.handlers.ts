import { guardPolicy } from "../../config";
import { effectivePlan } from "../../limits/subscription";
import { listChanges } from "../../services/changes";
import {
  createWebsite,
  deleteWebsite,
  getWebsite,
  listWebsites,
  updateWebsite,
  websiteView,
} from "../../services/websites";
import type { AppRouteHandler } from "../types";
import type * as routes from "./websites.routes";

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const now = c.get("now");
  const account = c.get("account");
  const website = await createWebsite(
    c.get("db"),
    effectivePlan(account, now),
    c.req.valid("json"),
    guardPolicy(c.env),
    now,
  );
  c.header("Location", `/v1/websites/${website.id}`);
  return c.json(websiteView(website), 201);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) =>
  c.json(await listWebsites(c.get("db"), c.req.valid("query")), 200);

export const get: AppRouteHandler<typeof routes.get> = async (c) =>
  c.json(websiteView(await getWebsite(c.get("db"), c.req.valid("param").id)), 200);

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const website = await updateWebsite(
    c.get("db"),
    c.req.valid("param").id,
    c.req.valid("json"),
    guardPolicy(c.env),
    c.get("now"),
  );
  return c.json(websiteView(website), 200);
};

export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  await deleteWebsite(c.get("db"), c.env.JOBS, c.get("account").id, c.req.valid("param").id);
  return c.body(null, 204);
};

export const changes: AppRouteHandler<typeof routes.changes> = async (c) => {
  const q = c.req.valid("query");
  const toMs = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));
  return c.json(
    await listChanges(c.get("db"), effectivePlan(c.get("account"), c.get("now")), c.req.valid("param").id, {
      ...q,
      since: toMs(q.since),
      until: toMs(q.until),
    }),
    200,
  );
};
