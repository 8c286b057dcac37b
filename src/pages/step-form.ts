import { html } from "hono/html";
import { type Action, StepSchema } from "../capture/steps";
import type { FieldErrors } from "../lib/errors";
import { attrs, describedBy, field, fieldId, fieldNotes, type Html, selectField } from "./components";

/**
 * The scenario step editor: one form, no script needed. Every step's fields come from the
 * API's own step union (`StepSchema`: which fields an action takes, their kinds, which are
 * optional), so a new action or field shows up here without a second list. The submit
 * buttons (`op` = add | remove:N | up:N | down:N | refresh | save) re-render the edited list
 * on the server; only `save` stores it.
 */
type Kind = "string" | "number" | "boolean" | "enum";
interface Spec {
  key: string;
  kind: Kind;
  required: boolean;
  options?: string[];
}

interface Def {
  type: string;
  innerType?: { def: Def };
  values?: unknown[];
  entries?: Record<string, string>;
}
type Option = { shape: Record<string, { def: Def }> };

function specOf(key: string, schema: { def: Def }): Spec {
  let def = schema.def;
  const required = def.type !== "optional";
  if (!required && def.innerType) def = def.innerType.def;
  const kind: Kind =
    def.type === "number" ? "number" : def.type === "boolean" ? "boolean" : def.type === "enum" ? "enum" : "string";
  return { key, kind, required, options: def.entries ? Object.values(def.entries) : undefined };
}

const SPECS = new Map<string, Spec[]>(
  (StepSchema.options as unknown as Option[]).map((o) => {
    const action = String(o.shape.action?.def.values?.[0]);
    // The step's own fields first, its timeout last.
    const keys = Object.keys(o.shape).filter((k) => k !== "action" && k !== "timeout_ms");
    return [action, [...keys, "timeout_ms"].map((k) => specOf(k, o.shape[k] as { def: Def }))];
  }),
);
export const ACTIONS = [...SPECS.keys()] as Action[];

const ACTION_LABELS: Record<Action, string> = {
  goto: "Go to URL",
  click: "Click",
  type: "Type text",
  select: "Choose an option",
  hover: "Hover",
  press: "Press a key",
  scroll: "Scroll",
  wait: "Wait",
  wait_for_selector: "Wait for an element",
  hide: "Hide an element",
  screenshot: "Take a screenshot",
  assert_text: "Check text",
  assert_visible: "Check an element is visible",
  assert_url: "Check the URL",
  assert_title: "Check the title",
};
export const actionLabel = (a: string) => ACTION_LABELS[a as Action] ?? a;

const LABELS: Record<string, string> = {
  url: "URL",
  selector: "CSS selector",
  optional: "Skip this step when the element is absent",
  text: "Text to type",
  secret: "Secret (stored encrypted, never shown again)",
  value: "Option value",
  key: "Key",
  to: "Scroll to",
  ms: "Milliseconds",
  state: "State",
  name: "Screenshot name",
  full_page: "Full page",
  compare: "Compare with the same screenshot of the last passed run",
  fail_on_change: "Fail the step when it changed",
  contains: "Contains",
  timeout_ms: "Step timeout (ms)",
};
const HINTS: Record<string, string> = {
  url: "Absolute, or relative to the website's URL.",
  to: '"bottom" or a CSS selector.',
  key: "For example Enter, Tab or ArrowDown.",
  ms: "0–10000.",
  timeout_ms: "100–60000; empty: 10000.",
};

/** One step as the form holds it: strings keyed by field, where it came from in the stored list. */
export interface StepDraft {
  action: string;
  values: Record<string, string>;
  /** Its position in the stored scenario (a secret is kept only at the same position: the API's rule). */
  from?: number;
  /** The stored step was a secret `type` step (its text is never sent to the browser). */
  storedSecret?: boolean;
}

/** Drafts from stored steps as the API shows them (`publicStep`: no secret text). */
export function draftsFromSteps(steps: Record<string, unknown>[]): StepDraft[] {
  return steps.map((s, i) => {
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === "action") continue;
      values[k] = typeof v === "boolean" ? (v ? "on" : "") : String(v);
    }
    return { action: String(s.action), values, from: i, storedSecret: s.action === "type" && s.secret === true };
  });
}

const STEP_FIELD = /^steps\.(\d+)\.([a-z_]+)$/;

/** The drafts a posted form holds, in order. */
export function draftsFromForm(form: Record<string, unknown>): StepDraft[] {
  const byIndex = new Map<number, StepDraft>();
  for (const [name, value] of Object.entries(form)) {
    const m = STEP_FIELD.exec(name);
    if (!m || typeof value !== "string") continue;
    const index = Number(m[1]);
    if (index >= 200) continue;
    const draft = byIndex.get(index) ?? { action: "", values: {} };
    byIndex.set(index, draft);
    const key = m[2] as string;
    if (key === "action") draft.action = value;
    else if (key === "from") draft.from = value === "" ? undefined : Number(value);
    else if (key === "stored_secret") draft.storedSecret = value === "1";
    else draft.values[key] = value;
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, d]) => d);
}

/** Applies an editing op; `save` and `refresh` leave the list as it is. False for an unknown op. */
export function applyOp(drafts: StepDraft[], op: string, newAction: string): boolean {
  if (op === "add") {
    drafts.push({ action: SPECS.has(newAction) ? newAction : "click", values: {} });
    return true;
  }
  const m = /^(remove|up|down):(\d+)$/.exec(op);
  if (!m) return op === "save" || op === "refresh";
  const i = Number(m[2]);
  if (i >= drafts.length) return true;
  if (m[1] === "remove") drafts.splice(i, 1);
  const j = m[1] === "up" ? i - 1 : i + 1;
  if (m[1] !== "remove" && j >= 0 && j < drafts.length) {
    [drafts[i], drafts[j]] = [drafts[j] as StepDraft, drafts[i] as StepDraft];
  }
  return true;
}

/**
 * The drafts as the API's step objects (strings to numbers and booleans), for the API's
 * schema to judge. A secret step left empty is sent without text, so the service keeps the
 * stored secret, but only where it was stored: a moved one must be typed again.
 */
export function stepsInput(drafts: StepDraft[]): { steps: Record<string, unknown>[]; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const steps = drafts.map((d, i) => {
    const step: Record<string, unknown> = { action: d.action };
    for (const spec of SPECS.get(d.action) ?? []) {
      const raw = d.values[spec.key] ?? "";
      const name = `steps.${i}.${spec.key}`;
      if (spec.kind === "boolean") {
        if (raw === "on") step[spec.key] = true;
      } else if (raw.trim() === "" && spec.kind !== "string") {
        if (spec.required) errors[name] = ["Is required"];
      } else if (spec.kind === "number") {
        const n = Number(raw);
        if (Number.isFinite(n)) step[spec.key] = n;
        else errors[name] = ["Must be a number"];
      } else if (raw !== "" || spec.required) {
        step[spec.key] = raw;
      }
    }
    if (d.action === "type" && step.secret === true && step.text === undefined && d.storedSecret && d.from !== i) {
      errors[`steps.${i}.text`] = [
        "This secret step moved: type the secret again (a kept secret stays at its position).",
      ];
    }
    return step;
  });
  return { steps, errors };
}

const actionOptions = ACTIONS.map((a) => ({ value: a, label: actionLabel(a) }));

function stepField(i: number, spec: Spec, d: StepDraft, errors: FieldErrors): Html {
  const name = `steps.${i}.${spec.key}`;
  const value = d.values[spec.key] ?? "";
  const label = `${LABELS[spec.key] ?? spec.key}${spec.required || spec.kind === "boolean" ? "" : " (optional)"}`;
  if (spec.kind === "boolean") {
    const id = fieldId(name);
    return html`<div class="field"><label class="check" for="${id}"><input${attrs({
      type: "checkbox",
      id,
      name,
      checked: value === "on",
      "aria-describedby": describedBy(name, false, errors[name]),
    })}> ${label}</label>${fieldNotes(name, undefined, errors[name])}</div>`;
  }
  if (spec.kind === "enum") {
    return selectField({
      name,
      label,
      value,
      errors,
      options: [{ value: "", label: "Default" }, ...(spec.options ?? []).map((o) => ({ value: o, label: o }))],
    });
  }
  const secret = d.action === "type" && spec.key === "text" && d.values.secret === "on";
  return field({
    name,
    label,
    errors,
    value,
    type: secret ? "password" : spec.kind === "number" ? "number" : "text",
    inputmode: spec.kind === "number" ? "numeric" : undefined,
    autocomplete: secret ? "off" : undefined,
    hint: secret && d.storedSecret ? "A secret is stored: leave this empty to keep it." : HINTS[spec.key],
  });
}

function stepBlock(d: StepDraft, i: number, total: number, errors: FieldErrors, action: string): Html {
  const at = (j: number) => `${action}#step-${Math.max(0, Math.min(j, total - 1))}`;
  const n = i + 1;
  const specs = SPECS.get(d.action) ?? [];
  const stepErrors = errors[`steps.${i}`];
  return html`<li class="step card" id="step-${i}">
<fieldset><legend>Step ${n}: ${actionLabel(d.action)}</legend>
<input type="hidden" name="steps.${i}.from" value="${d.from ?? ""}">
${d.storedSecret ? html`<input type="hidden" name="steps.${i}.stored_secret" value="1">` : ""}
${stepErrors ? html`<p class="error" role="alert">${stepErrors.join(" ")}</p>` : ""}
<div class="row action-row">
${selectField({ name: `steps.${i}.action`, label: "Action", options: actionOptions, value: d.action, errors })}
<button type="submit" name="op" value="refresh" class="secondary small" data-refresh formaction="${at(i)}">Show its fields<span class="sr-only"> (step ${n})</span></button>
</div>
<div class="grid2">${specs.map((spec) => stepField(i, spec, d, errors))}</div>
<div class="row step-ops">
  <button type="submit" name="op" value="up:${i}" class="secondary small"${attrs({ disabled: i === 0, formaction: at(i - 1) })} aria-label="Move step ${n} up">↑ Up</button>
  <button type="submit" name="op" value="down:${i}" class="secondary small"${attrs({ disabled: i === total - 1, formaction: at(i + 1) })} aria-label="Move step ${n} down">↓ Down</button>
  <button type="submit" name="op" value="remove:${i}" class="secondary small"${attrs({ formaction: i === total - 1 ? `${action}#add-step` : at(i) })} aria-label="Remove step ${n}">Remove</button>
</div>
</fieldset>
</li>`;
}

/**
 * The steps part of the editor form (inside the caller's <form>). Each button posts to the
 * form's `action` with the fragment of the step it leaves in view (`#step-N`), so adding,
 * moving or removing a step comes back where the person was, script or not.
 */
export function stepsEditor(drafts: StepDraft[], errors: FieldErrors, action: string): Html {
  const listErrors = errors.steps;
  return html`<h2 id="steps-h">Steps</h2>
${listErrors ? html`<p class="error" role="alert" id="steps-error">${listErrors.join(" ")}</p>` : ""}
${drafts.length ? "" : html`<p class="muted">No steps yet: add the first one below.</p>`}
<ol class="steps" aria-labelledby="steps-h">${drafts.map((d, i) => stepBlock(d, i, drafts.length, errors, action))}</ol>
<div class="row add-step" id="add-step">
${selectField({ name: "new_action", label: "New step", options: actionOptions, value: "click" })}
<button type="submit" name="op" value="add" class="secondary" formaction="${action}#step-${drafts.length}" id="add-step-button">Add step</button>
</div>`;
}
