import { createRoute, z } from "@hono/zod-openapi";
import { CaptureOptionsSchema } from "../../capture/options";
import { guardPolicy } from "../../config";
import { getDb } from "../../db/client";
import { pageQuery, pageSchema } from "../../db/pagination";
import { IdempotencyHeader, idempotentResponses, idParam, json, jsonBody, v1ErrorResponses } from "../../lib/openapi";
import { effectivePlan } from "../../limits/subscription";
import { idempotent } from "../../middleware/idempotency";
import {
  createWebsite,
  deleteWebsite,
  getWebsite,
  listWebsites,
  updateWebsite,
  websiteView,
} from "../../services/websites";
import { createRouter } from "../router";

export const WebsiteSchema = z
  .object({
    id: z.string().openapi({ example: "web_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    name: z.string(),
    url: z.string(),
    capture: CaptureOptionsSchema,
    created_at: z.string(),
    updated_at: z.string(),
    last_capture_at: z.string().nullable(),
  })
  .openapi("Website");

const name = z.string().trim().min(1, "Is required").max(100, "Must be at most 100 characters");
const url = z.string().trim().min(1, "Is required").max(2048, "Must be at most 2048 characters");

const CreateWebsite = z
  .object({ name, url, capture: CaptureOptionsSchema.optional() })
  .strict()
  .openapi("CreateWebsite");
const UpdateWebsite = z
  .object({
    name: name.optional(),
    url: url.optional(),
    capture: CaptureOptionsSchema.optional().openapi({ description: "Replaces the stored defaults." }),
  })
  .strict()
  .openapi("UpdateWebsite");

const tags = ["Websites"];
const security = [{ bearerAuth: [] }];
const params = idParam("Website", "web_01jf8z3k6m9q2w4e6r8t0y2u4i");

const create = createRoute({
  method: "post",
  path: "/v1/websites",
  tags,
  security,
  summary: "Register a website with capture defaults",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateWebsite) },
  responses: { 201: json(WebsiteSchema, "Created."), ...v1ErrorResponses, ...idempotentResponses },
});

const list = createRoute({
  method: "get",
  path: "/v1/websites",
  tags,
  security,
  summary: "List websites, newest first",
  request: { query: pageQuery },
  responses: {
    200: json(pageSchema(WebsiteSchema).openapi("WebsitePage"), "A page of websites."),
    ...v1ErrorResponses,
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/websites/{id}",
  tags,
  security,
  summary: "Get a website",
  request: { params },
  responses: { 200: json(WebsiteSchema, "The website."), ...v1ErrorResponses },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/websites/{id}",
  tags,
  security,
  summary: "Update a website (partial)",
  request: { params, body: jsonBody(UpdateWebsite) },
  responses: { 200: json(WebsiteSchema, "The updated website."), ...v1ErrorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/websites/{id}",
  tags,
  security,
  summary: "Delete a website with its screenshots (records and bytes), scenarios and schedules",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

export const websitesRouter = createRouter()
  .openapi(create, async (c) => {
    const now = c.get("now");
    const account = c.get("account");
    const website = await createWebsite(
      getDb(c.env.DB),
      account.id,
      effectivePlan(account, now),
      c.req.valid("json"),
      guardPolicy(c.env),
      now,
    );
    c.header("Location", `/v1/websites/${website.id}`);
    return c.json(websiteView(website), 201);
  })
  .openapi(list, async (c) =>
    c.json(await listWebsites(getDb(c.env.DB), c.get("account").id, c.req.valid("query")), 200),
  )
  .openapi(get, async (c) =>
    c.json(websiteView(await getWebsite(getDb(c.env.DB), c.get("account").id, c.req.valid("param").id)), 200),
  )
  .openapi(patch, async (c) => {
    const website = await updateWebsite(
      getDb(c.env.DB),
      c.get("account").id,
      c.req.valid("param").id,
      c.req.valid("json"),
      guardPolicy(c.env),
      c.get("now"),
    );
    return c.json(websiteView(website), 200);
  })
  .openapi(remove, async (c) => {
    await deleteWebsite(getDb(c.env.DB), c.env.JOBS, c.get("account").id, c.req.valid("param").id);
    return c.body(null, 204);
  });
