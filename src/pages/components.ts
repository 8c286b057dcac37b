import { html, raw } from "hono/html";
import type { FieldErrors } from "../lib/errors";

/** A fragment of HTML: interpolated values are escaped by `html`; `raw` only for markup we wrote. */
export type Html = ReturnType<typeof html>;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);

/** Attributes from an object: `undefined`/`false` leave one out, `true` writes it bare; values escaped. */
export function attrs(values: Record<string, string | number | boolean | null | undefined>) {
  let out = "";
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === false) continue;
    out += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`;
  }
  return raw(out);
}

/**
 * Times as people read them, in UTC (the server has no idea of the reader's zone), to the
 * second: two captures, deliveries or runs often share a minute.
 */
export function when(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined) return "never";
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export const day = (ms: number | string) => new Date(ms).toISOString().slice(0, 10);

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}

export const count = (n: number) => n.toLocaleString("en-US");

export const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const fieldId = (name: string) => `f-${name.replace(/[^a-zA-Z0-9_-]/g, "-")}`;

/** `aria-describedby` for a field with an optional hint and errors. */
export function describedBy(name: string, hint: boolean, errors: string[] | undefined) {
  const id = fieldId(name);
  return [hint ? `${id}-hint` : "", errors?.length ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
}

/** A field's hint and error lines (ids match `describedBy`). */
export function fieldNotes(name: string, hint: Html | string | undefined, errors: string[] | undefined) {
  const id = fieldId(name);
  return html`${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ""}${
    errors?.length ? html`<p class="error" id="${id}-error">${errors.join(" ")}</p>` : ""
  }`;
}

export interface FieldProps {
  name: string;
  label: string;
  /** Error messages keyed by field name. */
  errors?: FieldErrors;
  hint?: Html | string;
  type?: string;
  value?: string | number | null;
  required?: boolean;
  min?: number;
  max?: number;
  step?: number | "any";
  autocomplete?: string;
  placeholder?: string;
  inputmode?: string;
}

/** A labelled input with its hint and its errors beside it (aria-describedby ties them together). */
export function field(p: FieldProps) {
  const id = fieldId(p.name);
  const messages = p.errors?.[p.name];
  return html`<div class="${messages?.length ? "field invalid" : "field"}">
  <label for="${id}">${p.label}</label>
  <input${attrs({
    id,
    name: p.name,
    type: p.type ?? "text",
    value: p.value ?? "",
    required: p.required,
    min: p.min,
    max: p.max,
    step: p.step,
    autocomplete: p.autocomplete,
    placeholder: p.placeholder,
    inputmode: p.inputmode,
    "aria-invalid": messages?.length ? "true" : undefined,
    "aria-describedby": describedBy(p.name, Boolean(p.hint), messages),
  })}>
  ${fieldNotes(p.name, p.hint, messages)}
</div>`;
}

/** A labelled select; `options` as value/label pairs, the current value selected. */
export function selectField(p: {
  name: string;
  label: string;
  options: readonly { value: string; label: string }[];
  value?: string;
  errors?: FieldErrors;
  hint?: Html | string;
}) {
  const id = fieldId(p.name);
  const messages = p.errors?.[p.name];
  return html`<div class="${messages?.length ? "field invalid" : "field"}">
  <label for="${id}">${p.label}</label>
  <select${attrs({
    id,
    name: p.name,
    "aria-invalid": messages?.length ? "true" : undefined,
    "aria-describedby": describedBy(p.name, Boolean(p.hint), messages),
  })}>${p.options.map((o) => html`<option${attrs({ value: o.value, selected: p.value === o.value })}>${o.label}</option>`)}</select>
  ${fieldNotes(p.name, p.hint, messages)}
</div>`;
}

export const notice = (kind: "info" | "ok" | "error" | "warn", body: Html | string) =>
  html`<div class="notice ${kind}" role="${kind === "error" ? "alert" : "status"}">${body}</div>`;

/** A quota as a meter: used of limit, with the numbers in text too. */
export const meter = (p: { id: string; label: string; used: number; limit: number; resets: string }) =>
  html`<div class="meter">
  <div class="label"><label for="${p.id}">${p.label}</label><span>${count(p.used)} / ${count(p.limit)}</span></div>
  <meter${attrs({ id: p.id, min: 0, max: p.limit, low: p.limit * 0.75, high: p.limit * 0.9, optimum: 0, value: p.used })}>${count(p.used)} of ${count(p.limit)}</meter>
  <p class="hint muted">Resets ${when(p.resets)}</p>
</div>`;

export const statusBadge = (status: string) => html`<span class="status ${status}">${status}</span>`;

/** The hidden CSRF field every state-changing form carries (checked by pageSession). */
export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** A textarea's non-empty lines, trimmed (one selector, header, cookie or region per line). */
export const lines = (s: string | undefined) =>
  (s ?? "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
