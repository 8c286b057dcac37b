import { preferredWait } from "../../lib/prefer";
import { effectivePlan } from "../../limits/subscription";
import { approveScreenshot, screenshotDiff } from "../../services/changes";
import { bulkArchive, screenshotDownload, screenshotText } from "../../services/downloads";
import {
  deleteScreenshot,
  getScreenshot,
  listScreenshots,
  requestScreenshot,
  screenshotView,
} from "../../services/screenshots";
import type { AppRouteHandler } from "../types";
import type {
  ApproveRoute,
  BulkRoute,
  CreateRoute,
  DiffRoute,
  DownloadRoute,
  GetRoute,
  ListRoute,
  RemoveRoute,
  TextRoute,
} from "./screenshots.routes";

const toMs = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const body = c.req.valid("json");
  const wait = preferredWait(c.req.header("Prefer"));
  const { row, plan, finished } = await requestScreenshot(
    c.get("scope"),
    c.env.JOBS,
    c.get("account"),
    body.website_id,
    body.capture,
    c.get("now"),
    wait,
  );
  c.header("Location", `/v1/screenshots/${row.id}`);
  c.header("Vary", "Prefer", { append: true });
  if (!finished) return c.json(screenshotView(row, plan), 202);
  c.header("Preference-Applied", `wait=${wait}`);
  return c.json(screenshotView(row, plan), 200);
};

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const q = c.req.valid("query");
  const plan = effectivePlan(c.get("account"), c.get("now"));
  return c.json(await listScreenshots(c.get("db"), plan, { ...q, since: toMs(q.since), until: toMs(q.until) }), 200);
};

export const get: AppRouteHandler<GetRoute> = async (c) => {
  const row = await getScreenshot(c.get("db"), c.req.valid("param").id);
  return c.json(screenshotView(row, effectivePlan(c.get("account"), c.get("now"))), 200);
};

export const download: AppRouteHandler<DownloadRoute> = async (c) => {
  const file = await screenshotDownload(
    c.get("db"),
    c.env.SHOTS,
    c.req.valid("param").id,
    c.req.header("If-None-Match"),
  );
  return file.status === 304 ? c.body(null, 304, file.headers) : c.body(file.body, 200, file.headers);
};

export const text: AppRouteHandler<TextRoute> = async (c) => {
  const file = await screenshotText(c.get("db"), c.env.SHOTS, c.req.valid("param").id);
  return c.text(file.text, 200, file.headers);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  await deleteScreenshot(c.get("db"), c.env.SHOTS, c.req.valid("param").id);
  return c.body(null, 204);
};

export const bulk: AppRouteHandler<BulkRoute> = async (c) => {
  const body = c.req.valid("json");
  const request = body.ids
    ? { ids: body.ids }
    : { website_id: body.website_id as string, since: toMs(body.since), until: toMs(body.until) };
  const now = c.get("now");
  return bulkArchive(c.get("db"), c.env.SHOTS, effectivePlan(c.get("account"), now), request, now);
};

export const diff: AppRouteHandler<DiffRoute> = async (c) => {
  const file = await screenshotDiff(c.get("db"), c.env.SHOTS, c.req.valid("param").id);
  return c.body(file.body, 200, file.headers);
};

export const approve: AppRouteHandler<ApproveRoute> = async (c) =>
  c.json(
    await approveScreenshot(c.get("db"), c.req.valid("param").id, effectivePlan(c.get("account"), c.get("now"))),
    200,
  );
