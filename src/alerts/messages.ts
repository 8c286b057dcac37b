/**
 * What alerts say, three ways: an email (HTML + text, through src/mail), a Slack message
 * (incoming-webhook JSON with Block Kit blocks) and a Discord message (webhook JSON with an
 * embed). Pure functions of the alert and the links; the queue consumer sends what they make.
 */

import { percent, plural } from "../lib/format";
import { compose, escapeMailHtml } from "../mail/compose";
import type { InlineImage, Mail } from "../mail/message";
import type { AlertData, AlertPayload, ChannelTarget } from "./types";

/** Where links in messages point (the dashboard's origin, e.g. https://snaptrack.example). */
export interface Links {
  origin: string;
}

/** The inline diff picture of a change email: its content id and a size it must stay under. */
export const DIFF_CID = "diff";
export const MAX_INLINE_IMAGE_BYTES = 100 * 1024;

const comparePage = (l: Links, id: string) => `${l.origin}/app/screenshots/${id}/compare`;
const screenshotPage = (l: Links, id: string) => `${l.origin}/app/screenshots/${id}`;
const runPage = (l: Links, id: string) => `${l.origin}/app/runs/${id}`;
const schedulePage = (l: Links, id: string) => `${l.origin}/app/schedules/${id}`;

const triggerText = (t: { type: string; value: string; regex: boolean }) =>
  `${t.regex ? "pattern" : "text"} “${t.value}” ${t.type === "text_appears" ? "appeared" : "disappeared"}`;

/** The alert's one line: an email's subject, a chat message's title, the delivery log's summary. */
export function alertTitle(a: AlertData): string {
  switch (a.type) {
    case "change.detected": {
      const share =
        a.change_ratio && a.change_ratio > 0
          ? percent(a.change_ratio)
          : a.text?.changed
            ? `${plural(a.text.added_count, "line")} added, ${a.text.removed_count} removed`
            : percent(a.change_ratio ?? 0);
      return `${a.website.name} changed (${share})`;
    }
    case "screenshot.failed":
      return `${a.website.name} could not be captured`;
    case "recovered":
      return `${a.website.name} works again`;
    case "run.failed":
      return `Scenario “${a.scenario.name}” ${a.status === "error" ? "could not run" : "failed"}`;
    case "schedule.paused":
      return `A schedule of ${a.target} was paused`;
  }
}

/** What happened, in a few plain sentences (no markup). */
function alertLines(a: AlertData): string[] {
  switch (a.type) {
    case "change.detected": {
      const where = a.regions > 0 ? `, in ${plural(a.regions, "region")}` : "";
      const lines = [
        `${a.website.name} (${a.website.url}) changed: ${percent(a.change_ratio)} of the page differs${where}${a.size_changed ? ", and its size changed" : ""}.`,
      ];
      if (a.text?.changed)
        lines.push(
          `Its text: ${plural(a.text.added_count, "line")} added, ${plural(a.text.removed_count, "line")} removed.`,
        );
      if (a.triggered.length) lines.push(`Triggered: ${a.triggered.map(triggerText).join("; ")}.`);
      return lines;
    }
    case "screenshot.failed":
      return [
        `SnapTrack could not capture ${a.website.name} (${a.website.url}).`,
        `Why: ${a.error}`,
        "You will hear when it works again.",
      ];
    case "recovered":
      return [
        `${a.website.name} (${a.website.url}) was captured again at ${shortTime(a.at)} UTC.`,
        `Its captures had failed since ${shortTime(a.failing_since)} UTC.`,
      ];
    case "run.failed":
      return [
        `The scenario “${a.scenario.name}” on ${a.website.name} ended ${a.status}.`,
        ...(a.error ? [`Why: ${a.error}`] : []),
      ];
    case "schedule.paused":
      return [`SnapTrack paused a schedule of ${a.target}.`, ...(a.reason ? [`Why: ${a.reason}`] : [])];
  }
}

/** The page to open for the alert, and what the button says. */
function alertAction(a: AlertData, l: Links): { label: string; href: string } {
  switch (a.type) {
    case "change.detected":
      return { label: "Compare with baseline", href: comparePage(l, a.screenshot_id) };
    case "screenshot.failed":
      return { label: "See the failed capture", href: screenshotPage(l, a.screenshot_id) };
    case "recovered":
      return { label: "See the capture", href: screenshotPage(l, a.screenshot_id) };
    case "run.failed":
      return { label: "See the run", href: runPage(l, a.run_id) };
    case "schedule.paused":
      return { label: "See the schedule", href: schedulePage(l, a.schedule_id) };
  }
}

const shortTime = (isoTime: string) => isoTime.slice(0, 16).replace("T", " ");

// ---- Email -------------------------------------------------------------------------------

function footer(ch: ChannelTarget, why: string): string[] {
  return [why, `Unsubscribe (one click, stops just these alerts): ${ch.unsubscribeUrl}`];
}

/** RFC 8058: mail clients offer "Unsubscribe", which POSTs `List-Unsubscribe=One-Click` to the link. */
const unsubscribeHeaders = (ch: ChannelTarget) => ({
  "List-Unsubscribe": `<${ch.unsubscribeUrl}>`,
  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
});

function linesHtml(title: string, lines: string[], total: number, sign: "+" | "−", colour: string, bg: string) {
  if (lines.length === 0) return "";
  const more =
    total > lines.length
      ? `<p style="margin:4px 0 0;font-size:13px;color:#4a5565">and ${total - lines.length} more</p>`
      : "";
  return `<p style="margin:16px 0 6px;font-weight:600">${escapeMailHtml(title)}</p>
<div style="border:1px solid #d5dae1;border-radius:6px;overflow:hidden;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace">${lines
    .map(
      (line) =>
        `<div style="background:${bg};color:${colour};padding:2px 8px;white-space:pre-wrap;word-break:break-word">${sign} ${escapeMailHtml(line)}</div>`,
    )
    .join("")}</div>${more}`;
}

function changeHtml(a: Extract<AlertData, { type: "change.detected" }>, l: Links, image: boolean): string {
  const text = a.text;
  const parts = [
    text ? linesHtml(`Added lines (${text.added_count})`, text.added, text.added_count, "+", "#0a5c24", "#e9f7ee") : "",
    text
      ? linesHtml(`Removed lines (${text.removed_count})`, text.removed, text.removed_count, "−", "#8a1c1c", "#fdecec")
      : "",
    image
      ? `<p style="margin:16px 0 6px;font-weight:600">What changed (in red)</p>
<a href="${escapeMailHtml(comparePage(l, a.screenshot_id))}"><img src="cid:${DIFF_CID}" alt="The changed pixels of ${escapeMailHtml(a.website.name)} in red" style="display:block;max-width:100%;height:auto;border:1px solid #d5dae1;border-radius:6px"></a>`
      : "",
  ];
  return parts.filter(Boolean).join("\n");
}

function changeText(a: Extract<AlertData, { type: "change.detected" }>): string[] {
  const t = a.text;
  if (!t?.changed) return [];
  const block = (title: string, lines: string[], total: number, sign: string) =>
    lines.length
      ? [
          "",
          `${title}:`,
          ...lines.map((x) => `${sign} ${x}`),
          ...(total > lines.length ? [`  … and ${total - lines.length} more`] : []),
        ]
      : [];
  return [
    ...block("Added lines", t.added, t.added_count, "+"),
    ...block("Removed lines", t.removed, t.removed_count, "-"),
  ];
}

/** An alert as an email; `image` is the change's diff picture (PNG, ≤ 100 KB), shown inline. */
export function alertEmail(a: AlertData, ch: ChannelTarget, l: Links, image?: Uint8Array): Mail {
  const action = alertAction(a, l);
  const why = `You get this because ${ch.target} is an alert channel of a SnapTrack account, told of ${
    a.type === "change.detected" ? "changes" : a.type === "recovered" ? "recoveries" : "failures"
  } of ${a.website?.name ?? "its websites"}.`;
  const withImage = a.type === "change.detected" && image !== undefined && image.byteLength <= MAX_INLINE_IMAGE_BYTES;
  const mail = compose({
    to: ch.target,
    subject: alertTitle(a),
    lines: alertLines(a),
    action,
    footer: footer(ch, why),
    extraHtml: a.type === "change.detected" ? changeHtml(a, l, withImage) : undefined,
    headers: unsubscribeHeaders(ch),
  });
  if (a.type === "change.detected") {
    const extra = changeText(a);
    if (extra.length)
      mail.text = [
        ...alertLines(a),
        ...extra,
        "",
        `${action.label}: ${action.href}`,
        "",
        "--",
        ...footer(ch, why),
      ].join("\n");
  }
  const inline: InlineImage[] =
    withImage && image ? [{ contentId: DIFF_CID, filename: "changes.png", type: "image/png", content: image }] : [];
  return inline.length ? { ...mail, inline } : mail;
}

/** A day's alerts in one email. */
export function digestEmail(p: Extract<AlertPayload, { kind: "digest" }>, ch: ChannelTarget, l: Links): Mail {
  const n = p.alerts.length + p.more;
  const items = p.alerts
    .map((a) => {
      const action = alertAction(a, l);
      return `<li style="margin:0 0 10px"><a href="${escapeMailHtml(action.href)}" style="color:#1f5fbf;font-weight:600">${escapeMailHtml(alertTitle(a))}</a><br><span style="font-size:14px;color:#4a5565">${escapeMailHtml(alertLines(a)[0] ?? "")}</span></li>`;
    })
    .join("\n");
  const more = p.more > 0 ? `<p style="margin:0;font-size:14px">… and ${p.more} more on the dashboard.</p>` : "";
  const why = `You get this daily digest because ${ch.target} is an alert channel of a SnapTrack account (08:00, ${p.timezone}).`;
  const mail = compose({
    to: ch.target,
    subject: `SnapTrack daily digest: ${plural(n, "alert")} (${p.day})`,
    lines: [`What happened to your websites on ${p.day} (${p.timezone}):`],
    extraHtml: `<ul style="margin:0 0 12px;padding-left:20px">${items}</ul>${more}`,
    action: { label: "Open the dashboard", href: `${l.origin}/app` },
    footer: footer(ch, why),
    headers: unsubscribeHeaders(ch),
  });
  mail.text = [
    `What happened to your websites on ${p.day} (${p.timezone}):`,
    "",
    ...p.alerts.flatMap((a) => [`- ${alertTitle(a)}`, `  ${alertAction(a, l).href}`]),
    ...(p.more > 0 ? [`… and ${p.more} more on the dashboard.`] : []),
    "",
    "--",
    ...footer(ch, why),
  ].join("\n");
  return mail;
}

export function testEmail(ch: ChannelTarget, l: Links): Mail {
  return compose({
    to: ch.target,
    subject: "SnapTrack test alert",
    lines: ["This is a test alert: this address receives SnapTrack's alerts as it should."],
    action: { label: "Alert settings", href: `${l.origin}/app/settings/alerts/${ch.id}` },
    footer: footer(ch, `You get this because someone sent a test alert to ${ch.target}.`),
    headers: unsubscribeHeaders(ch),
  });
}

/** The confirmation an address outside the team gets before any alert. */
export function verificationEmail(to: string, link: string, accountName: string): Mail {
  return compose({
    to,
    subject: "Confirm SnapTrack alerts to this address",
    lines: [
      `${accountName} wants SnapTrack to send alerts (website changes and failures) to ${to}.`,
      "Nothing is sent to this address until you confirm.",
    ],
    action: { label: "Confirm this address", href: link },
    footer: ["If you did not expect this, ignore this mail: nothing more will be sent."],
  });
}

// ---- Slack (incoming webhooks, Block Kit) -------------------------------------------------

/** Slack's mrkdwn: `&`, `<` and `>` are its only control characters. */
const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A code block of lines within Slack's 3,000 characters a text object. */
function slackLines(title: string, lines: string[], total: number, sign: string) {
  let body = "";
  for (const line of lines) {
    const next = `${sign} ${line}\n`;
    if (body.length + next.length > 2_700) break;
    body += next;
  }
  const more = total > lines.length || body.split("\n").length - 1 < lines.length ? "\n_more on the dashboard_" : "";
  return {
    type: "section",
    text: { type: "mrkdwn", text: `*${title}*\n\`\`\`${slackEscape(body.trimEnd())}\`\`\`${more}` },
  };
}

function slackBlocks(a: AlertData, l: Links) {
  const action = alertAction(a, l);
  const blocks: unknown[] = [
    { type: "header", text: { type: "plain_text", text: cut(alertTitle(a), 150), emoji: false } },
    { type: "section", text: { type: "mrkdwn", text: cut(slackEscape(alertLines(a).join("\n")), 3_000) } },
  ];
  if (a.type === "change.detected" && a.text?.changed) {
    if (a.text.added.length)
      blocks.push(slackLines(`Added lines (${a.text.added_count})`, a.text.added, a.text.added_count, "+"));
    if (a.text.removed.length)
      blocks.push(slackLines(`Removed lines (${a.text.removed_count})`, a.text.removed, a.text.removed_count, "-"));
  }
  blocks.push({
    type: "actions",
    elements: [{ type: "button", text: { type: "plain_text", text: action.label }, url: action.href }],
  });
  return blocks;
}

/** The JSON body Slack's incoming webhook takes (`text` is the notification's fallback). */
export function slackMessage(p: AlertPayload, l: Links): Record<string, unknown> {
  if (p.kind === "alert") return { text: alertTitle(p.alert), blocks: slackBlocks(p.alert, l) };
  if (p.kind === "test")
    return {
      text: "SnapTrack test alert",
      blocks: [
        {
          type: "section",
          text: { type: "mrkdwn", text: "*SnapTrack test alert*\nThis channel receives SnapTrack's alerts." },
        },
      ],
    };
  const n = p.alerts.length + p.more;
  const title = `SnapTrack daily digest: ${plural(n, "alert")} (${p.day})`;
  return {
    text: title,
    blocks: [
      { type: "header", text: { type: "plain_text", text: cut(title, 150) } },
      ...p.alerts.slice(0, 45).map((a) => ({
        type: "section",
        text: {
          type: "mrkdwn",
          text: cut(
            `<${alertAction(a, l).href}|${slackEscape(alertTitle(a))}>\n${slackEscape(alertLines(a)[0] ?? "")}`,
            3_000,
          ),
        },
      })),
      ...(p.more > 0 || p.alerts.length > 45
        ? [
            {
              type: "context",
              elements: [{ type: "mrkdwn", text: `… and ${n - Math.min(45, p.alerts.length)} more on the dashboard` }],
            },
          ]
        : []),
    ],
  };
}

// ---- Discord (webhooks, embeds) -----------------------------------------------------------

const COLOURS: Record<AlertData["type"], number> = {
  "change.detected": 0xf5a623,
  "screenshot.failed": 0xc0392b,
  "run.failed": 0xc0392b,
  "schedule.paused": 0x7f8c8d,
  recovered: 0x27ae60,
};

/** A ```diff block within Discord's 1,024 characters a field. */
function discordLines(lines: string[], sign: string) {
  let body = "";
  for (const line of lines) {
    const next = `${sign} ${line.replace(/```/g, "ˋˋˋ")}\n`;
    if (body.length + next.length > 1_000) break;
    body += next;
  }
  return `\`\`\`diff\n${body || " "}\`\`\``;
}

function discordEmbed(a: AlertData, l: Links) {
  const action = alertAction(a, l);
  const fields: { name: string; value: string; inline?: boolean }[] = [];
  if (a.type === "change.detected" && a.text?.changed) {
    if (a.text.added.length)
      fields.push({ name: `Added lines (${a.text.added_count})`, value: discordLines(a.text.added, "+") });
    if (a.text.removed.length)
      fields.push({ name: `Removed lines (${a.text.removed_count})`, value: discordLines(a.text.removed, "-") });
  }
  return {
    title: cut(alertTitle(a), 256),
    url: action.href,
    description: cut(`${alertLines(a).join("\n")}\n\n[${action.label}](${action.href})`, 4_000),
    color: COLOURS[a.type],
    fields,
    footer: { text: "SnapTrack" },
    ...("at" in a ? { timestamp: a.at } : a.type === "change.detected" ? { timestamp: a.captured_at } : {}),
  };
}

/** The JSON body Discord's webhook takes: one embed (a digest lists its alerts in the description). */
export function discordMessage(p: AlertPayload, l: Links): Record<string, unknown> {
  const base = { username: "SnapTrack", allowed_mentions: { parse: [] } };
  if (p.kind === "alert") return { ...base, embeds: [discordEmbed(p.alert, l)] };
  if (p.kind === "test")
    return {
      ...base,
      embeds: [
        { title: "SnapTrack test alert", description: "This channel receives SnapTrack's alerts.", color: 0x1f5fbf },
      ],
    };
  const n = p.alerts.length + p.more;
  let description = "";
  for (const a of p.alerts) {
    const line = `• [${alertTitle(a).replace(/[[\]]/g, "")}](${alertAction(a, l).href})\n`;
    if (description.length + line.length > 3_900) break;
    description += line;
  }
  const shown = description.split("\n").length - 1;
  if (shown < n) description += `… and ${n - shown} more on the dashboard`;
  return {
    ...base,
    embeds: [
      {
        title: cut(`SnapTrack daily digest: ${plural(n, "alert")} (${p.day})`, 256),
        url: `${l.origin}/app`,
        description,
        color: 0x1f5fbf,
      },
    ],
  };
}

/** The message for one delivery, by channel type. */
export function renderAlert(
  p: AlertPayload,
  ch: ChannelTarget,
  l: Links,
  image?: Uint8Array,
): { email: Mail } | { json: Record<string, unknown> } {
  if (ch.type === "slack") return { json: slackMessage(p, l) };
  if (ch.type === "discord") return { json: discordMessage(p, l) };
  if (p.kind === "alert") return { email: alertEmail(p.alert, ch, l, image) };
  if (p.kind === "digest") return { email: digestEmail(p, ch, l) };
  return { email: testEmail(ch, l) };
}
