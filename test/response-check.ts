import { exports } from "cloudflare:workers";
import { dereference, type Schema, validate } from "@cfworker/json-schema";

/**
 * Every response the tests receive is checked against the OpenAPI document the app serves:
 * the status must be documented for the operation, a JSON body must validate against the
 * schema documented for that status, and any other body must have a documented media type.
 * Answers outside any documented operation (unknown paths, 405s) must be the error envelope.
 * A mismatch throws, failing the test that made the request.
 *
 * The validator is @cfworker/json-schema: it interprets schemas (workerd forbids generating
 * code, so validators that compile schemas to functions cannot run here).
 */

type Responses = Record<string, { content?: Record<string, { schema?: Schema }> }>;
interface Operation {
  method: string;
  template: string;
  re: RegExp;
  responses: Responses;
}
interface Checker {
  operations: Operation[];
  lookup: Record<string, Schema | boolean>;
  errorSchema: Schema;
}

const BASE_URI = new URL("https://snaptrack.test/openapi.json");
/** Served outside the documented API on purpose: the index and the document itself. */
const UNDOCUMENTED = new Set(["GET /", "GET /v1/openapi.json", "GET /docs", "GET /docs/scalar.js"]);

let checker: Promise<Checker> | undefined;

/** `example`s are data, not schemas: dropped so the validator never reads them as schemas. */
function withoutExamples(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutExamples);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "example" || key === "examples") continue;
    out[key] = withoutExamples(value);
  }
  return out;
}

async function build(): Promise<Checker> {
  const res = await exports.default.fetch(new Request("https://api.snaptrack.test/v1/openapi.json"));
  if (res.status !== 200) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  const doc = withoutExamples(await res.json()) as {
    paths: Record<string, Record<string, { responses?: Responses }>>;
    components: { schemas: Record<string, Schema> };
  };
  // One root holding every schema, so `#/components/schemas/…` refs resolve from anywhere.
  const root = { $id: BASE_URI.href, components: doc.components, paths: doc.paths } as unknown as Schema;
  const lookup = dereference(root);
  const operations: Operation[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);
    for (const [method, op] of Object.entries(ops)) {
      operations.push({ method: method.toUpperCase(), template, re, responses: op.responses ?? {} });
    }
  }
  const errorSchema = doc.components.schemas.Error;
  if (!errorSchema) throw new Error("the OpenAPI document has no Error schema");
  return { operations, lookup, errorSchema };
}

const mediaType = (res: Response) => (res.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

function documentsMediaType(documented: string[], actual: string): boolean {
  return documented.some((d) => d === actual || (d.endsWith("/*") && actual.startsWith(d.slice(0, -1))));
}

async function validateJson(c: Checker, res: Response, schema: Schema, what: string): Promise<string[]> {
  const text = await res.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`${what}: the body is not JSON: ${text.slice(0, 200)}`];
  }
  const result = validate(body, schema, "2020-12", c.lookup, false);
  if (result.valid) return [];
  // The deepest errors say what is wrong; the ones above them only repeat that a subschema failed.
  const details = result.errors
    .filter((e) => !["properties", "items", "$ref", "allOf", "additionalProperties"].includes(e.keyword))
    .map((e) => `${e.instanceLocation} ${e.error}`);
  return [
    `${what}: the body does not match the documented schema:\n    ${(details.length ? details : result.errors.map((e) => `${e.instanceLocation} ${e.error}`)).slice(0, 12).join("\n    ")}\n  body: ${text.slice(0, 600)}`,
  ];
}

/** The problems with `res` as the answer to `method url` (none when it is as documented). */
export async function responseProblems(method: string, url: string, res: Response): Promise<string[]> {
  checker ??= build();
  const c = await checker;
  const path = new URL(url).pathname;
  const name = `${method} ${path} → ${res.status}`;
  if (method === "OPTIONS" || method === "HEAD" || UNDOCUMENTED.has(`${method} ${path}`)) return [];
  // A concrete path may fit two templates (/v1/screenshots/download-bulk and /v1/screenshots/{id});
  // the one without parameters wins, as it does in the router.
  const candidates = c.operations.filter((o) => o.method === method && o.re.test(path));
  const op = candidates.find((o) => !o.template.includes("{")) ?? candidates[0];
  if (!op) {
    if (mediaType(res) !== "application/json" || res.status < 400) {
      return [`${name}: no documented operation, and the answer is not the JSON error envelope`];
    }
    return validateJson(c, res, c.errorSchema, `${name} (undocumented operation)`);
  }
  const documented = op.responses[String(res.status)] ?? op.responses.default;
  if (!documented) {
    return [
      `${name}: status ${res.status} is not documented for ${method} ${op.template} (documented: ${Object.keys(op.responses).join(", ")})`,
    ];
  }
  const content = documented.content ?? {};
  const actual = mediaType(res);
  if (res.status === 204 || res.status === 304 || res.body === null) {
    return Object.keys(content).length === 0 || res.status === 304
      ? []
      : [`${name}: documented with a body (${Object.keys(content).join(", ")}) but answered without one`];
  }
  if (!documentsMediaType(Object.keys(content), actual)) {
    return [
      `${name}: Content-Type ${actual || "(none)"} is not documented (documented: ${Object.keys(content).join(", ") || "no body"})`,
    ];
  }
  const schema = content[actual]?.schema;
  if (actual === "application/json") {
    if (!schema) return [`${name}: no schema documented for the JSON body`];
    return validateJson(c, res, schema, name);
  }
  return [];
}

/** Throws when `res` is not as documented; returns it otherwise. */
export async function checked(method: string, url: string, res: Response): Promise<Response> {
  const problems = await responseProblems(method, url, res);
  if (problems.length > 0) throw new Error(`Response does not match the OpenAPI document:\n  ${problems.join("\n  ")}`);
  return res;
}
