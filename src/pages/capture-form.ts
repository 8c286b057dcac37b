import { html } from "hono/html";
import type { z } from "zod";
import { type CaptureOptionsInput, CaptureOptionsSchema, DEFAULT_OPTIONS } from "../capture/options";
import type { FieldErrors } from "../lib/errors";
import { fieldErrors } from "../lib/errors";
import { IMAGE_FORMATS } from "../lib/values";
import { attrs, describedBy, type FieldProps, field, fieldId, fieldNotes, type Html, lines } from "./components";

/**
 * Every capture option as form fields, with the contract's bounds read from the one schema
 * (`CaptureOptionsSchema`), and back: the form's strings → options input → the schema's
 * own validation, errors keyed by the field that shows them.
 */
type Shape = typeof CaptureOptionsSchema.shape;
const shape: Shape = CaptureOptionsSchema.shape;
const viewportShape = shape.viewport.unwrap().shape;

function bounds(schema: z.ZodType): { min?: number; max?: number } {
  const inner = (schema as unknown as { unwrap?: () => z.ZodType }).unwrap?.() ?? schema;
  const n = inner as unknown as { minValue?: number | null; maxValue?: number | null };
  return { min: n.minValue ?? undefined, max: n.maxValue ?? undefined };
}

const NUMBERS = {
  "viewport.width": { label: "Viewport width (px)", ...bounds(viewportShape.width), step: 1 },
  "viewport.height": { label: "Viewport height (px)", ...bounds(viewportShape.height), step: 1 },
  device_scale_factor: { label: "Device scale factor", ...bounds(shape.device_scale_factor), step: "any" as const },
  quality: { label: "Quality (jpeg, webp)", ...bounds(shape.quality), step: 1 },
  delay_ms: { label: "Delay before capture (ms)", ...bounds(shape.delay_ms), step: 1 },
  timeout_ms: { label: "Timeout (ms)", ...bounds(shape.timeout_ms), step: 1 },
};
type NumberField = keyof typeof NUMBERS;
const CHECKS = { full_page: "Full page", dark_mode: "Dark mode", block_ads: "Block ads" } as const;
const WAIT_UNTIL = ["load", "domcontentloaded", "networkidle"] as const;

/** Where an error path shows: `viewport.width` beside its input, `headers.X-Foo` / `cookies.0.value` beside their box. */
export function formKey(path: string): string {
  const parts = path.replace(/^capture\./, "").split(".");
  return parts[0] === "viewport" && parts[1] ? `viewport.${parts[1]}` : (parts[0] ?? "body");
}

export function regroup(errors: FieldErrors): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, messages] of Object.entries(errors)) {
    const key = formKey(path);
    const rest = path
      .replace(/^capture\./, "")
      .slice(key.length)
      .replace(/^\./, "");
    out[key] = [...(out[key] ?? []), ...messages.map((m) => (rest ? `${rest}: ${m}` : m))];
  }
  return out;
}

const text = (form: Record<string, unknown>, name: string) => {
  const v = form[name];
  return typeof v === "string" ? v : "";
};

/** The form's values as strings, to show again after an error. */
export type CaptureFormValues = Record<string, string>;

export function valuesFromOptions(o: CaptureOptionsInput): CaptureFormValues {
  const v: CaptureFormValues = {};
  if (o.viewport?.width !== undefined) v["viewport.width"] = String(o.viewport.width);
  if (o.viewport?.height !== undefined) v["viewport.height"] = String(o.viewport.height);
  for (const k of ["device_scale_factor", "quality", "delay_ms", "timeout_ms"] as const) {
    if (o[k] !== undefined) v[k] = String(o[k]);
  }
  for (const k of Object.keys(CHECKS) as (keyof typeof CHECKS)[]) if (o[k]) v[k] = "on";
  if (o.format) v.format = o.format;
  if (o.wait_until) v.wait_until = o.wait_until;
  if (o.wait_for_selector) v.wait_for_selector = o.wait_for_selector;
  if (o.selector) v.selector = o.selector;
  if (o.user_agent) v.user_agent = o.user_agent;
  if (o.hide_selectors?.length) v.hide_selectors = o.hide_selectors.join("\n");
  if (o.headers && Object.keys(o.headers).length) {
    v.headers = Object.entries(o.headers)
      .map(([k, val]) => `${k}: ${val}`)
      .join("\n");
  }
  if (o.cookies?.length) {
    v.cookies = o.cookies
      .map((c) =>
        [
          `${c.name}=${c.value}`,
          c.domain ? `Domain=${c.domain}` : "",
          c.path ? `Path=${c.path}` : "",
          c.secure ? "Secure" : "",
          c.http_only ? "HttpOnly" : "",
          c.same_site ? `SameSite=${c.same_site}` : "",
        ]
          .filter(Boolean)
          .join("; "),
      )
      .join("\n");
  }
  return v;
}

/** The form's capture fields (named `<prefix><option>`: a scenario's editor prefixes them with `capture.`). */
export function valuesFromForm(form: Record<string, unknown>, prefix = ""): CaptureFormValues {
  const v: CaptureFormValues = {};
  for (const name of [
    ...Object.keys(NUMBERS),
    ...Object.keys(CHECKS),
    "format",
    "wait_until",
    "wait_for_selector",
    "selector",
    "user_agent",
    "hide_selectors",
    "headers",
    "cookies",
  ]) {
    const value = text(form, prefix + name);
    if (value !== "") v[name] = value;
  }
  return v;
}

/** Form values → options, checked by the schema. Empty fields use the defaults. */
export function parseCaptureForm(
  v: CaptureFormValues,
): { ok: true; options: CaptureOptionsInput } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(NUMBERS) as NumberField[]) {
    const s = v[name]?.trim();
    if (!s) continue;
    const n = Number(s);
    if (!Number.isFinite(n)) {
      errors[name] = ["Must be a number"];
      continue;
    }
    if (name.startsWith("viewport.")) {
      raw.viewport = { ...(raw.viewport as object | undefined), [name.slice("viewport.".length)]: n };
    } else raw[name] = n;
  }
  for (const name of Object.keys(CHECKS)) if (v[name]) raw[name] = true;
  for (const name of ["format", "wait_until", "wait_for_selector", "selector", "user_agent"]) {
    if (v[name]) raw[name] = v[name];
  }
  const hide = lines(v.hide_selectors);
  if (hide.length) raw.hide_selectors = hide;
  const headerLines = lines(v.headers);
  if (headerLines.length) {
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      if (colon <= 0) {
        errors.headers = [...(errors.headers ?? []), `"${line}": write each header as Name: value`];
        continue;
      }
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    raw.headers = headers;
  }
  const cookieLines = lines(v.cookies);
  if (cookieLines.length) {
    raw.cookies = cookieLines.map((line) => {
      const [pair = "", ...attributes] = line.split(";").map((p) => p.trim());
      const eq = pair.indexOf("=");
      const cookie: Record<string, unknown> = {
        name: eq < 0 ? pair : pair.slice(0, eq),
        value: eq < 0 ? "" : pair.slice(eq + 1),
      };
      for (const a of attributes) {
        const [k = "", val = ""] = a.split("=").map((p) => p.trim());
        const key = k.toLowerCase();
        if (key === "domain") cookie.domain = val;
        else if (key === "path") cookie.path = val;
        else if (key === "secure") cookie.secure = true;
        else if (key === "httponly") cookie.http_only = true;
        else if (key === "samesite") cookie.same_site = val.charAt(0).toUpperCase() + val.slice(1).toLowerCase();
        else errors.cookies = [...(errors.cookies ?? []), `Unknown cookie attribute "${a}"`];
      }
      return cookie;
    });
  }
  const parsed = CaptureOptionsSchema.safeParse(raw);
  if (!parsed.success) Object.assign(errors, regroup(fieldErrors(parsed.error.issues)));
  if (Object.keys(errors).length || !parsed.success) return { ok: false, errors };
  return { ok: true, options: parsed.data };
}

function select(
  name: string,
  label: string,
  options: readonly string[],
  value: string | undefined,
  def: string,
  errors: FieldErrors,
) {
  const id = fieldId(name);
  // `name` carries the form's prefix; the value and errors are looked up under it.
  return html`<div class="${errors[name] ? "field invalid" : "field"}"><label for="${id}">${label}</label>
<select${attrs({ id, name, "aria-describedby": describedBy(name, false, errors[name]) })}>
<option value="">Default (${def})</option>
${options.map((o) => html`<option${attrs({ value: o, selected: value === o })}>${o}</option>`)}
</select>${fieldNotes(name, undefined, errors[name])}</div>`;
}

function textarea(name: string, label: string, hint: string, value: string | undefined, errors: FieldErrors) {
  const id = fieldId(name);
  return html`<div class="${errors[name] ? "field invalid" : "field"}"><label for="${id}">${label}</label>
<textarea${attrs({
    id,
    name,
    rows: 3,
    spellcheck: "false",
    "aria-invalid": errors[name] ? "true" : undefined,
    "aria-describedby": describedBy(name, true, errors[name]),
  })}>${value ?? ""}</textarea>${fieldNotes(name, hint, errors[name])}</div>`;
}

function check(name: string, option: keyof typeof CHECKS, value: string | undefined, errors: FieldErrors) {
  const id = fieldId(name);
  return html`<div class="field"><label class="check" for="${id}"><input${attrs({
    type: "checkbox",
    id,
    name,
    checked: Boolean(value),
  })}> ${CHECKS[option]}</label>${fieldNotes(name, undefined, errors[name])}</div>`;
}

/**
 * The capture options fieldsets (a website's defaults; a scenario's own options with
 * `prefix` "capture."). `errors` are keyed by option (`viewport.width`), as `parseCaptureForm`
 * and `regroup` key them.
 */
export function captureFields(values: CaptureFormValues, plainErrors: FieldErrors, prefix = ""): Html {
  const v: CaptureFormValues = Object.fromEntries(Object.entries(values).map(([k, x]) => [prefix + k, x]));
  const errors: FieldErrors = Object.fromEntries(Object.entries(plainErrors).map(([k, x]) => [prefix + k, x]));
  const P = (name: string) => prefix + name;
  const num = (name: NumberField, def: string | number) => {
    const spec = NUMBERS[name];
    const p: FieldProps = {
      name: P(name),
      label: spec.label,
      type: "number",
      value: v[P(name)],
      min: spec.min,
      max: spec.max,
      step: spec.step,
      errors,
      inputmode: spec.step === "any" ? "decimal" : "numeric",
      placeholder: String(def),
      hint: `${spec.min}–${spec.max}`,
    };
    return field(p);
  };
  const d = DEFAULT_OPTIONS;
  return html`<fieldset><legend>Page and image</legend>
<div class="grid2">
${num("viewport.width", d.viewport.width)}${num("viewport.height", d.viewport.height)}
${num("device_scale_factor", d.device_scale_factor)}
${select(P("format"), "Format", IMAGE_FORMATS, v[P("format")], d.format, errors)}
${num("quality", d.quality)}
</div>
${check(P("full_page"), "full_page", v[P("full_page")], errors)}${check(P("dark_mode"), "dark_mode", v[P("dark_mode")], errors)}${check(P("block_ads"), "block_ads", v[P("block_ads")], errors)}
</fieldset>
<fieldset><legend>Timing</legend>
<div class="grid2">
${select(P("wait_until"), "Wait until", WAIT_UNTIL, v[P("wait_until")], d.wait_until, errors)}
${num("delay_ms", d.delay_ms)}${num("timeout_ms", d.timeout_ms)}
${field({ name: P("wait_for_selector"), label: "Wait for selector", value: v[P("wait_for_selector")], errors, placeholder: "#content" })}
</div>
</fieldset>
<fieldset><legend>Content</legend>
${field({ name: P("selector"), label: "Capture only this element (CSS selector)", value: v[P("selector")], errors })}
${textarea(P("hide_selectors"), "Hide these elements", "One CSS selector a line.", v[P("hide_selectors")], errors)}
</fieldset>
<fieldset><legend>Request</legend>
${field({ name: P("user_agent"), label: "User agent", value: v[P("user_agent")], errors, hint: "Empty: the browser's own." })}
${textarea(P("headers"), "Headers", "One a line: Name: value. Sent to the site's own origin only.", v[P("headers")], errors)}
${textarea(P("cookies"), "Cookies", "One a line: name=value; Domain=example.com; Path=/; Secure; HttpOnly; SameSite=Lax", v[P("cookies")], errors)}
</fieldset>`;
}
