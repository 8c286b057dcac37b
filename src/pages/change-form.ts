import { html } from "hono/html";
import { type ChangeDetection, ChangeDetectionSchema, type Trigger } from "../compare/settings";
import { type FieldErrors, fieldErrors } from "../lib/errors";
import { attrs, describedBy, field, fieldId, fieldNotes, type Html, lines } from "./components";

/**
 * A website's change detection as form fields and back, checked by the API's own schema
 * (`ChangeDetectionSchema`); errors are keyed by the field that shows them
 * (`change_detection.ignore_regions` for `ignore_regions.2.width`).
 */
const P = "change_detection";
const NAMES = [
  "enabled",
  "threshold",
  "tile_threshold",
  "ignore_selectors",
  "ignore_regions",
  "baseline",
  "text",
  "triggers",
  "confirm",
] as const;
type Name = (typeof NAMES)[number];
const key = (n: Name) => `${P}.${n}`;

/** The form's values as strings, to show again after an error. */
export type ChangeFormValues = Partial<Record<Name, string>>;

export function changeValuesFromSettings(d: ChangeDetection): ChangeFormValues {
  return {
    enabled: d.enabled ? "on" : "",
    threshold: String(d.threshold),
    tile_threshold: String(d.tile_threshold),
    ignore_selectors: d.ignore_selectors.join("\n"),
    ignore_regions: d.ignore_regions.map((r) => `${r.x}, ${r.y}, ${r.width}, ${r.height}`).join("\n"),
    baseline: d.baseline,
    text: d.text ? "on" : "",
    triggers: d.triggers.map(triggerLine).join("\n"),
    confirm: d.confirm ? "on" : "",
  };
}

/** A trigger as one line of the form: `appears: text`, `disappears: /regex/`. */
const triggerLine = (t: Trigger) =>
  `${t.type === "text_appears" ? "appears" : "disappears"}: ${t.regex ? `/${t.value}/` : t.value}`;

/** One line of the triggers field back into a trigger (undefined: not in the form's shape). */
function parseTriggerLine(line: string): { type: string; value: string; regex: boolean } | undefined {
  const m = /^(appears|disappears)\s*:\s*(.+)$/i.exec(line);
  if (!m) return undefined;
  const raw = (m[2] ?? "").trim();
  const regex = raw.length > 2 && raw.startsWith("/") && raw.endsWith("/");
  return {
    type: (m[1] ?? "").toLowerCase() === "appears" ? "text_appears" : "text_disappears",
    value: regex ? raw.slice(1, -1) : raw,
    regex,
  };
}

export const defaultChangeValues = () => changeValuesFromSettings(ChangeDetectionSchema.parse({}));

export function changeValuesFromForm(form: Record<string, unknown>): ChangeFormValues {
  const v: ChangeFormValues = {};
  for (const n of NAMES) {
    const value = form[key(n)];
    v[n] = typeof value === "string" ? value : "";
  }
  return v;
}

/** Form values → settings, checked by the schema. Empty numbers take the defaults. */
export function parseChangeForm(
  v: ChangeFormValues,
): { ok: true; settings: ChangeDetection } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const raw: Record<string, unknown> = {
    enabled: Boolean(v.enabled),
    text: Boolean(v.text),
    confirm: Boolean(v.confirm),
  };
  for (const n of ["threshold", "tile_threshold"] as const) {
    const s = v[n]?.trim();
    if (!s) continue;
    const num = Number(s);
    if (Number.isFinite(num)) raw[n] = num;
    else errors[key(n)] = ["Must be a number"];
  }
  raw.ignore_selectors = lines(v.ignore_selectors);
  const regions: Record<string, number | undefined>[] = [];
  for (const line of lines(v.ignore_regions)) {
    const nums = line
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    if (nums.length === 4 && nums.every((n) => Number.isFinite(n))) {
      const [x, y, width, height] = nums;
      regions.push({ x, y, width, height });
    } else {
      errors[key("ignore_regions")] = [
        ...(errors[key("ignore_regions")] ?? []),
        `"${line}": write each region as x, y, width, height (pixels)`,
      ];
    }
  }
  raw.ignore_regions = regions;
  if (v.baseline) raw.baseline = v.baseline;
  const triggers: unknown[] = [];
  for (const line of lines(v.triggers)) {
    const t = parseTriggerLine(line);
    if (t) triggers.push(t);
    else
      errors[key("triggers")] = [
        ...(errors[key("triggers")] ?? []),
        `"${line}": write each trigger as "appears: text" or "disappears: text" (a /regex/ between slashes)`,
      ];
  }
  raw.triggers = triggers;
  const parsed = ChangeDetectionSchema.safeParse(raw);
  if (!parsed.success) {
    for (const [path, messages] of Object.entries(fieldErrors(parsed.error.issues))) {
      const [first = "", ...rest] = path.split(".");
      const name = (NAMES as readonly string[]).includes(first) ? key(first as Name) : key("enabled");
      // `ignore_regions.2.width` is shown as "region 3, width: …", `triggers.0.value` as "trigger 1: …".
      const item = first === "triggers" ? "trigger" : "region";
      const where = rest.length
        ? `${/^\d+$/.test(rest[0] ?? "") ? `${item} ${Number(rest[0]) + 1}` : rest[0]}${rest[1] && first !== "triggers" ? `, ${rest[1]}` : ""}: `
        : "";
      errors[name] = [...(errors[name] ?? []), ...messages.map((m) => `${where}${m}`)];
    }
  }
  if (Object.keys(errors).length || !parsed.success) return { ok: false, errors };
  return { ok: true, settings: parsed.data };
}

function area(n: Name, label: string, hint: string, value: string | undefined, errors: FieldErrors) {
  const name = key(n);
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

/** The change detection fieldset of the website form. */
export function changeFields(v: ChangeFormValues, errors: FieldErrors): Html {
  const num = (n: "threshold" | "tile_threshold", label: string, hint: string) =>
    field({
      name: key(n),
      label,
      type: "number",
      value: v[n],
      min: 0,
      max: 100,
      step: "any",
      inputmode: "decimal",
      errors,
      hint,
    });
  const check = (n: "text" | "confirm", label: string) => {
    const id = fieldId(key(n));
    return html`<div class="field"><label class="check" for="${id}"><input${attrs({
      type: "checkbox",
      id,
      name: key(n),
      checked: Boolean(v[n]),
    })}> ${label}</label>${fieldNotes(key(n), undefined, errors[key(n)])}</div>`;
  };
  const baselineId = fieldId(key("baseline"));
  const enabledId = fieldId(key("enabled"));
  return html`<fieldset id="change-detection"><legend>Change detection</legend>
<div class="field"><label class="check" for="${enabledId}"><input${attrs({
    type: "checkbox",
    id: enabledId,
    name: key("enabled"),
    checked: Boolean(v.enabled),
  })}> Compare each capture with a baseline</label>${fieldNotes(key("enabled"), undefined, errors[key("enabled")])}</div>
<div class="grid2">
${num("threshold", "Threshold (% of the page)", "0–100; changed when more of the compared area differs. Default 0.1.")}
${num("tile_threshold", "Tile threshold (% of any 64×64 tile)", "0–100; a small change on a tall page still counts. Default 2.")}
<div class="${errors[key("baseline")] ? "field invalid" : "field"}"><label for="${baselineId}">Baseline</label>
<select${attrs({ id: baselineId, name: key("baseline"), "aria-describedby": describedBy(key("baseline"), true, errors[key("baseline")]) })}>
<option${attrs({ value: "previous", selected: v.baseline !== "approved" })}>previous capture</option>
<option${attrs({ value: "approved", selected: v.baseline === "approved" })}>approved capture</option>
</select>${fieldNotes(key("baseline"), "Approve a capture on its compare page.", errors[key("baseline")])}</div>
</div>
${area("ignore_selectors", "Ignore these elements", "One CSS selector a line (at most 20): their boxes are left out of the comparison.", v.ignore_selectors, errors)}
${area("ignore_regions", "Ignore these regions", "One a line, in image pixels: x, y, width, height (at most 20).", v.ignore_regions, errors)}
${check("text", "Compare the page's text too (added and removed lines)")}
${area(
  "triggers",
  "Triggers",
  "One a line (at most 10): “appears: In stock” or “disappears: /Sold out|Unavailable/” (a regular expression between slashes). With triggers, a capture counts as changed only when one fires.",
  v.triggers,
  errors,
)}
${check("confirm", "Confirm a change with a second capture 60 s later (a change gone by then is not reported)")}
</fieldset>`;
}
