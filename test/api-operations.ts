import { exports } from "cloudflare:workers";
import { FIXTURE } from "./helpers";

/**
 * The `/v1` operations as the served OpenAPI document lists them, and a request for each one
 * built from that document: path ids and id references filled with a given account's
 * resources, a minimal valid body from a small per-schema example table or, failing that,
 * generated from the documented schema. A new route is covered by being documented.
 */

export const KINDS = [
  "website",
  "screenshot",
  "scenario",
  "run",
  "schedule",
  "webhook",
  "delivery",
  "alert-channel",
] as const;
export type Kind = (typeof KINDS)[number];
export type Ids = Record<Kind, string>;

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: JsonSchema;
}

interface DocOperation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
}

export interface Document {
  paths: Record<string, Record<string, DocOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export interface Operation {
  /** `GET /v1/websites/{id}` */
  name: string;
  method: string;
  template: string;
  pathParams: Parameter[];
  query: Parameter[];
  security: Record<string, string[]>[];
  responses: string[];
  /** The documented success status. */
  success: number;
  body?: { schema: JsonSchema; component?: string };
}

const METHODS = ["get", "post", "put", "patch", "delete"];

export async function loadDocument(): Promise<Document> {
  const res = await exports.default.fetch(new Request("https://api.snaptrack.test/v1/openapi.json"));
  if (res.status !== 200) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  return (await res.json()) as Document;
}

/** Every documented operation under `/v1`, in document order. */
export function v1Operations(doc: Document): Operation[] {
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    if (!template.startsWith("/v1/")) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const name = `${method.toUpperCase()} ${template}`;
      const params = op.parameters ?? [];
      const unknown = params.filter((p) => p.required && (p.in === "header" || p.in === "cookie"));
      if (unknown.length > 0)
        throw new Error(`${name}: required ${unknown.map((p) => `${p.in} ${p.name}`).join(", ")}: no way to fill it`);
      const responses = Object.keys(op.responses ?? {});
      // A POST that starts a job answers 202, or 200 only when asked to wait (`Prefer`), which these calls never send.
      const waits = params.some((p) => p.in === "header" && p.name === "prefer");
      const success = waits ? responses.find((s) => s === "202") : responses.find((s) => s.startsWith("2"));
      if (!success) throw new Error(`${name}: no documented success status`);
      const content = op.requestBody?.content;
      let body: Operation["body"];
      if (content) {
        const schema = content["application/json"]?.schema;
        if (!schema)
          throw new Error(`${name}: a request body other than JSON (${Object.keys(content)}): no way to build it`);
        body = { schema, component: schema.$ref?.split("/").pop() };
      }
      ops.push({
        name,
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((p) => p.in === "path"),
        query: params.filter((p) => p.in === "query"),
        security: op.security ?? [],
        responses,
        success: Number(success),
        body,
      });
    }
  }
  return ops;
}

const asKind = (word: string, where: string): Kind => {
  const kind = word.replace(/ies$/, "y").replace(/s$/, "") as Kind;
  if (!KINDS.includes(kind)) throw new Error(`${where}: "${word}" names no known resource kind (${KINDS.join(", ")})`);
  return kind;
};

/** The kind a path parameter names: the segment before it (`/v1/scenarios/{id}/run` → scenario). */
export function pathParamKind(op: Operation, param: string): Kind {
  const segments = op.template.split("/");
  const at = segments.indexOf(`{${param}}`);
  return asKind(segments[at - 1] ?? "", `${op.name} {${param}}`);
}

/** `website_id` → website; `ids` → the operation's own resource (`/v1/screenshots/…` → screenshot). */
export function referenceKind(op: Operation, name: string): Kind {
  if (name === "ids") return asKind(op.template.split("/")[2] ?? "", `${op.name} ids`);
  return asKind(name.replace(/_id$/, ""), `${op.name} ${name}`);
}

export const isReference = (name: string) => name === "ids" || name.endsWith("_id");

/** Top-level body properties and query parameters that carry another resource's id. */
export function bodyReferences(doc: Document, op: Operation): string[] {
  if (!op.body) return [];
  return Object.keys(resolve(doc, op.body.schema).properties ?? {}).filter(isReference);
}
export const queryReferences = (op: Operation) => op.query.map((p) => p.name).filter(isReference);
export const isList = (op: Operation) => op.method === "GET" && op.query.some((p) => p.name === "cursor");

/**
 * Minimal valid bodies for schemas a generated sample would not satisfy (rules the schema
 * cannot express: a reachable URL, one of two targets, a step that passes). Values of
 * reference properties are placeholders: they are filled with the account's ids.
 */
export const BODY_EXAMPLES: Record<string, () => Record<string, unknown>> = {
  CreateWebsite: () => ({ name: "Security suite", url: `${FIXTURE()}/colors` }),
  UpdateWebsite: () => ({ name: "Security suite, renamed" }),
  BulkDownload: () => ({ ids: [] }),
  CreateScenario: () => ({
    website_id: "",
    name: "Security suite",
    steps: [{ action: "assert_visible", selector: "#box" }],
  }),
  UpdateScenario: () => ({ name: "Security suite, renamed" }),
  CreateSchedule: () => ({ website_id: "", interval_minutes: 60 }),
  UpdateSchedule: () => ({ enabled: true }),
  CreateWebhook: () => ({ url: `${FIXTURE()}/__hook?t=security-suite` }),
  UpdateWebhook: () => ({ description: "Security suite" }),
  CreateAlertChannel: () => ({ type: "slack", target: `${FIXTURE()}/__hook?t=security-suite-alerts` }),
  UpdateAlertChannel: () => ({ events: ["change.detected"] }),
  UpdateAlertSettings: () => ({ timezone: "Europe/Berlin" }),
};

function resolve(doc: Document, schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`unresolvable ${schema.$ref}`);
  return resolve(doc, target);
}

/** A value satisfying `schema`'s types and bounds: required properties only, first alternatives. */
export function sample(doc: Document, input: JsonSchema, where: string): unknown {
  const schema = resolve(doc, input);
  if (schema.enum) return schema.enum[0];
  const alternative = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (alternative) return sample(doc, alternative, where);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(doc, s, where)));
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) {
        const prop = schema.properties?.[key];
        if (!prop) throw new Error(`${where}: required "${key}" has no schema`);
        out[key] = sample(doc, prop, `${where}.${key}`);
      }
      return out;
    }
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(doc, schema.items ?? {}, `${where}[]`));
    case "string":
      if (schema.format === "date-time") return new Date(0).toISOString();
      return "x".repeat(Math.max(1, schema.minLength ?? 1));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    default:
      throw new Error(`${where}: no way to build a value of ${JSON.stringify(schema).slice(0, 200)}`);
  }
}

/** The operation's minimal body with every reference property pointing at `ids`. */
export function bodyFor(doc: Document, op: Operation, ids: Ids): Record<string, unknown> | undefined {
  if (!op.body) return undefined;
  const example = op.body.component ? BODY_EXAMPLES[op.body.component] : undefined;
  const body = (example ? example() : sample(doc, op.body.schema, op.name)) as Record<string, unknown>;
  for (const name of bodyReferences(doc, op)) {
    if (!(name in body)) continue;
    const id = ids[referenceKind(op, name)];
    body[name] = name === "ids" ? [id] : id;
  }
  return body;
}

/** The body with only the reference `name` (set to `ids`' resource) among its references. */
export function bodyWithOnly(doc: Document, op: Operation, ids: Ids, name: string): Record<string, unknown> {
  const body = { ...bodyFor(doc, op, ids) };
  for (const other of bodyReferences(doc, op)) delete body[other];
  const id = ids[referenceKind(op, name)];
  body[name] = name === "ids" ? [id] : id;
  return body;
}

export interface BuiltRequest {
  path: string;
  init: RequestInit;
}

/**
 * A request for `op`: path ids from `ids`, the given query (plus any required parameter, a
 * reference from `ids` or a sample of its schema), the given body, and the headers.
 */
export function requestFor(
  doc: Document,
  op: Operation,
  ids: Ids,
  headers: Record<string, string>,
  options: { body?: Record<string, unknown>; query?: Record<string, string> } = {},
): BuiltRequest {
  let path = op.template;
  for (const p of op.pathParams) path = path.replace(`{${p.name}}`, ids[pathParamKind(op, p.name)]);
  const params: Record<string, string> = {};
  for (const p of op.query.filter((q) => q.required)) {
    params[p.name] = isReference(p.name)
      ? ids[referenceKind(op, p.name)]
      : String(sample(doc, p.schema ?? {}, `${op.name} ?${p.name}`));
  }
  const query = new URLSearchParams({ ...params, ...options.query }).toString();
  const init: RequestInit = { method: op.method, headers: { ...headers } };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  return { path: query ? `${path}?${query}` : path, init };
}
