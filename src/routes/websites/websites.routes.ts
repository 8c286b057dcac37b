import { createRoute } from "@hono/zod-openapi";
import { pageQuery, pageSchema } from "../../db/pagination";
import {
  IdempotencyHeader,
  idempotentResponses,
  idParam,
  json,
  jsonBody,
  v1ErrorResponses,
  v1Security,
} from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { isoTime, ScreenshotSchema } from "../screenshots/screenshots.schemas";
import { CreateWebsite, UpdateWebsite, WebsiteSchema } from "./websites.schemas";

const tags = ["Websites"];

const params = idParam("Website", "web_01jf8z3k6m9q2w4e6r8t0y2u4i");

export const create = createRoute({
  method: "post",
  path: "/v1/websites",
  operationId: "createWebsite",
  tags,
  security: v1Security,
  summary: "Register a website with capture defaults",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateWebsite) },
  responses: { 201: json(WebsiteSchema, "Created."), ...v1ErrorResponses, ...idempotentResponses },
});

export const list = createRoute({
  method: "get",
  path: "/v1/websites",
  operationId: "listWebsites",
  tags,
  security: v1Security,
  summary: "List websites, newest first",
  request: { query: pageQuery },
  responses: {
    200: json(pageSchema(WebsiteSchema).openapi("WebsitePage"), "A page of websites."),
    ...v1ErrorResponses,
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/websites/{id}",
  operationId: "getWebsite",
  tags,
  security: v1Security,
  summary: "Get a website",
  request: { params },
  responses: { 200: json(WebsiteSchema, "The website."), ...v1ErrorResponses },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/websites/{id}",
  operationId: "updateWebsite",
  tags,
  security: v1Security,
  summary: "Update a website (partial)",
  request: { params, body: jsonBody(UpdateWebsite) },
  responses: { 200: json(WebsiteSchema, "The updated website."), ...v1ErrorResponses },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/websites/{id}",
  operationId: "deleteWebsite",
  tags,
  security: v1Security,
  summary: "Delete a website with its screenshots (records and bytes), scenarios and schedules",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

export const changes = createRoute({
  method: "get",
  path: "/v1/websites/{id}/changes",
  operationId: "listWebsiteChanges",
  tags,
  security: v1Security,
  summary: "The website's captures whose comparison found a change, newest first",
  request: {
    params,
    query: pageQuery.extend({
      since: isoTime.optional().openapi({ description: "Created at or after (ISO-8601)." }),
      until: isoTime.optional().openapi({ description: "Created at or before (ISO-8601)." }),
    }),
  },
  responses: {
    200: json(pageSchema(ScreenshotSchema).openapi("ChangePage"), "A page of changed captures."),
    ...v1ErrorResponses,
  },
});
