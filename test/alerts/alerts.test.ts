import { env } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { imageSize } from "../../src/capture/image";
import { alertImageKey, textKey } from "../../src/capture/keys";
import { inlineImages, listOutbox, outboxHeaders } from "../../src/mail/outbox";
import {
  accountSql,
  body,
  call,
  createWebsite,
  expectError,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  requestCapture,
  type ShotView,
  settled,
  type TestAccount,
} from "../helpers";
import { addMember, get, pageFetch, post } from "../page-helpers";
import { receivedAtLeast, receiver } from "../webhook-receiver";

interface TextComparison {
  changed: boolean;
  added_count: number;
  removed_count: number;
  added: string[];
  removed: string[];
}
interface Comparison {
  status: "pending" | "completed" | "failed";
  baseline_id: string | null;
  changed: boolean | null;
  change_ratio: number | null;
  diff_url: string | null;
  text: TextComparison | null;
  triggered: { type: string; value: string; regex: boolean }[];
  transient: boolean;
  error?: string;
}
type Compared = ShotView & { comparison: Comparison | null };
interface Channel {
  id: string;
  type: string;
  target: string;
  events: string[];
  website_ids: string[] | null;
  frequency: string;
  verified: boolean;
  enabled: boolean;
  disabled_reason: string | null;
  created_by: string | null;
}

const VIEWPORT = { viewport: { width: 480, height: 360 } };

/** A `/seq` page whose n-th capture sees the n-th of `versions` (test/fixtures/pages.mjs). */
const seqUrl = (versions: string) => `${FIXTURE()}/seq?t=${crypto.randomUUID()}&v=${versions}`;

/** Captures and waits for the capture and its comparison (a confirmation included) to settle. */
async function shot(acc: TestAccount, websiteId: string): Promise<Compared> {
  const queued = await requestCapture(acc, websiteId);
  await settled(acc, queued.id);
  await vi.waitFor(
    async () => {
      const [row] = await accountSql<{ comparison_status: string | null }>(
        acc.id,
        "SELECT comparison_status FROM screenshots WHERE id = ?",
        queued.id,
      );
      if (row?.comparison_status === "pending") throw new Error("comparison pending");
    },
    { timeout: 45_000, interval: 200 },
  );
  return body<Compared>(await call(`/v1/screenshots/${queued.id}`, { headers: acc.auth }));
}

async function site(acc: TestAccount, url: string, detection: Record<string, unknown> = {}) {
  const created = await createWebsite(acc, url, VIEWPORT);
  const res = await call(`/v1/websites/${created.id}`, jsonInit("PATCH", { change_detection: detection }, acc.auth));
  expect(res.status, await res.clone().text()).toBe(200);
  return created;
}

async function channel(acc: TestAccount, input: Record<string, unknown>): Promise<Channel> {
  const res = await call("/v1/alert-channels", jsonInit("POST", input, acc.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return body<Channel>(res);
}

const outbox = (acc: TestAccount, to?: string) => inAccount(acc.id, (db) => listOutbox(db, 100, to));

/** Waits (real queue, real consumer) until `to` has `n` messages in the account's outbox. */
async function mailsTo(acc: TestAccount, to: string, n: number) {
  let got: Awaited<ReturnType<typeof outbox>> = [];
  await vi.waitFor(
    async () => {
      got = await outbox(acc, to);
      if (got.length < n) throw new Error(`${got.length} of ${n} mails`);
    },
    { timeout: 30_000, interval: 150 },
  );
  return got;
}

/** Every delivery of a channel has ended (nothing pending): what was sent is all there is. */
async function deliveriesSettled(acc: TestAccount, channelId: string) {
  await vi.waitFor(
    async () => {
      const rows = await accountSql(
        acc.id,
        "SELECT id FROM alert_deliveries WHERE channel_id = ? AND status = 'pending'",
        channelId,
      );
      if (rows.length > 0) throw new Error(`${rows.length} pending`);
    },
    { timeout: 30_000, interval: 150 },
  );
}

describe("text with every capture, and the change email (real browser, queues, R2, mail path)", () => {
  let acc: TestAccount;
  let email: Channel;
  let first: Compared;
  let second: Compared;

  beforeAll(async () => {
    acc = await newAccount("business");
    email = await channel(acc, { type: "email", target: acc.email });
    const w = await site(acc, seqUrl("a,b,a"));
    first = await shot(acc, w.id);
    second = await shot(acc, w.id);
  }, 120_000);

  it("keeps the page's visible text next to the image: GET /v1/screenshots/{id}/text", async () => {
    const res = await call(`/v1/screenshots/${first.id}/text`, { headers: acc.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("Prices\nApples 3 €\nPears 4 €\nPlums 5 €\nUpdated daily.");
  });

  it("lists the added and removed lines in comparison.text, and the change counts as changed", () => {
    expect(second.comparison).toMatchObject({
      status: "completed",
      baseline_id: first.id,
      changed: true,
      transient: false,
      triggered: [],
      text: {
        changed: true,
        added_count: 3,
        removed_count: 1,
        added: ["Pears 4.50 €", "Cherries 7 €", "Sold out: Figs"],
        removed: ["Pears 4 €"],
      },
    });
  });

  it("mails the change: subject with the share, the lines, the diff as an inline image ≤ 100 KB, links and one-click unsubscribe", async () => {
    const [mail] = await mailsTo(acc, acc.email, 1);
    if (!mail) throw new Error("no mail");
    const share = second.comparison?.change_ratio ?? 0;
    expect(mail.subject).toMatch(/^Fixture changed \(\d+(\.\d+)? %\)$/);
    expect(share).toBeGreaterThan(0);
    expect(mail.html).toContain("+ Cherries 7 €");
    expect(mail.html).toContain("− Pears 4 €");
    expect(mail.html).toContain(`https://api.snaptrack.test/app/screenshots/${second.id}/compare`);
    expect(mail.text).toContain("+ Sold out: Figs");
    expect(mail.text).toContain("- Pears 4 €");
    const [image] = inlineImages(mail);
    expect(image?.type).toBe("image/png");
    expect(image?.content.byteLength).toBeLessThanOrEqual(100 * 1024);
    expect(imageSize(image?.content ?? new Uint8Array())?.width).toBeGreaterThan(0);
    expect(mail.html).toContain(`src="cid:${image?.contentId}"`);
    const headers = outboxHeaders(mail);
    expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(headers["List-Unsubscribe"]).toMatch(/^<https:\/\/api\.snaptrack\.test\/alerts\/unsubscribe\/acc_[^>]+>$/);
    // The delivery log has it, delivered.
    const log = await body<{ data: { kind: string; status: string; summary: string }[] }>(
      await call(`/v1/alert-channels/${email.id}/deliveries`, { headers: acc.auth }),
    );
    expect(log.data[0]).toMatchObject({ kind: "alert", status: "delivered", summary: mail.subject });
  });

  it("one-click unsubscribe (RFC 8058) disables just that channel: the next change mails nothing", async () => {
    const [mail] = await outbox(acc, acc.email);
    const link = /<([^>]+)>/.exec(outboxHeaders(mail as NonNullable<typeof mail>)["List-Unsubscribe"] ?? "")?.[1] ?? "";
    // What a mail client sends: a cross-site POST with this body, no cookie, no CSRF token.
    const res = await pageFetch(new URL(link).pathname, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://mail.example" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    const after = await body<Channel>(await call(`/v1/alert-channels/${email.id}`, { headers: acc.auth }));
    expect(after).toMatchObject({ enabled: false });
    expect(after.disabled_reason).toMatch(/Unsubscribed/);
    const w = second.website_id;
    const third = await shot(acc, w); // "a" again: a change back
    expect(third.comparison?.changed).toBe(true);
    const [row] = await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM alerts");
    // No enabled channel wants it: nothing is raised or mailed.
    expect(row?.n).toBe(1);
    expect(await outbox(acc, acc.email)).toHaveLength(1);
  });

  it("deletes the text with its screenshot", async () => {
    const [row] = await accountSql<{ r2_key: string }>(acc.id, "SELECT r2_key FROM screenshots WHERE id = ?", first.id);
    const key = textKey(row?.r2_key ?? "");
    expect(await env.SHOTS.head(key)).not.toBeNull();
    expect((await call(`/v1/screenshots/${first.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    expect(await env.SHOTS.head(key)).toBeNull();
    const [changedRow] = await accountSql<{ r2_key: string }>(
      acc.id,
      "SELECT r2_key FROM screenshots WHERE id = ?",
      second.id,
    );
    expect(await env.SHOTS.head(alertImageKey(changedRow?.r2_key ?? ""))).not.toBeNull();
    expect((await call(`/v1/screenshots/${second.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    expect(await env.SHOTS.head(alertImageKey(changedRow?.r2_key ?? ""))).toBeNull();
  });
});

// ---- Slack and Discord: their formats, at loopback receivers -------------------------------

/** Slack's incoming-webhook body (Block Kit): the limits Slack documents for what we send. */
const SLACK = new Validator(
  {
    type: "object",
    required: ["text", "blocks"],
    additionalProperties: false,
    properties: {
      text: { type: "string", minLength: 1, maxLength: 3000 },
      blocks: {
        type: "array",
        minItems: 1,
        maxItems: 50,
        items: {
          type: "object",
          required: ["type"],
          properties: {
            type: { enum: ["header", "section", "actions", "context", "divider"] },
            text: {
              type: "object",
              required: ["type", "text"],
              properties: { type: { enum: ["plain_text", "mrkdwn"] }, text: { type: "string", maxLength: 3000 } },
            },
            elements: {
              type: "array",
              maxItems: 25,
              items: {
                type: "object",
                required: ["type"],
                properties: {
                  type: { enum: ["button", "mrkdwn", "plain_text"] },
                  url: { type: "string", maxLength: 3000 },
                  text: { oneOf: [{ type: "string" }, { type: "object", required: ["type", "text"] }] },
                },
              },
            },
          },
        },
      },
    },
  },
  "2020-12",
);

/** Discord's webhook body with embeds: the limits Discord documents. */
const DISCORD = new Validator(
  {
    type: "object",
    required: ["embeds"],
    properties: {
      username: { type: "string", maxLength: 80 },
      content: { type: "string", maxLength: 2000 },
      allowed_mentions: { type: "object", properties: { parse: { type: "array", maxItems: 0 } } },
      embeds: {
        type: "array",
        minItems: 1,
        maxItems: 10,
        items: {
          type: "object",
          additionalProperties: false,
          properties: {
            title: { type: "string", maxLength: 256 },
            description: { type: "string", maxLength: 4096 },
            url: { type: "string" },
            color: { type: "integer", minimum: 0, maximum: 0xffffff },
            timestamp: { type: "string", format: "date-time" },
            footer: { type: "object", required: ["text"], properties: { text: { type: "string", maxLength: 2048 } } },
            fields: {
              type: "array",
              maxItems: 25,
              items: {
                type: "object",
                required: ["name", "value"],
                properties: { name: { type: "string", maxLength: 256 }, value: { type: "string", maxLength: 1024 } },
              },
            },
          },
        },
      },
    },
  },
  "2020-12",
);

function valid(validator: Validator, payload: unknown) {
  const result = validator.validate(payload);
  expect(result.errors, JSON.stringify(result.errors.slice(0, 3))).toEqual([]);
}

describe("triggers, Slack and Discord (loopback receivers)", () => {
  let acc: TestAccount;
  const slack = receiver();
  const discord = receiver();
  let changed: Compared;
  let quiet: Compared;

  beforeAll(async () => {
    acc = await newAccount("business");
    await channel(acc, { type: "slack", target: slack.url, events: ["change.detected"] });
    await channel(acc, { type: "discord", target: discord.url, events: ["change.detected"] });
    const w = await site(acc, seqUrl("a,b,c"), {
      triggers: [
        { type: "text_appears", value: "^Sold out: \\w+$", regex: true },
        { type: "text_disappears", value: "Apples" },
      ],
    });
    await shot(acc, w.id);
    changed = await shot(acc, w.id); // b: "Sold out: Figs" appears; Apples stays
    quiet = await shot(acc, w.id); // c: other lines change, no trigger fires
  }, 120_000);

  it("a trigger that fires makes the change, one that does not is not listed", () => {
    expect(changed.comparison).toMatchObject({
      changed: true,
      triggered: [{ type: "text_appears", value: "^Sold out: \\w+$", regex: true }],
    });
  });

  it("with triggers set, a comparison whose lines changed but no trigger fired is not a change", () => {
    expect(quiet.comparison?.text?.changed).toBe(true);
    expect(quiet.comparison).toMatchObject({ changed: false, triggered: [] });
  });

  it("Slack gets Block Kit JSON and Discord an embed, each valid for its format, once", async () => {
    const [toSlack] = await receivedAtLeast(slack.t, 1);
    const [toDiscord] = await receivedAtLeast(discord.t, 1);
    const s = JSON.parse(toSlack?.body ?? "{}");
    const d = JSON.parse(toDiscord?.body ?? "{}");
    valid(SLACK, s);
    valid(DISCORD, d);
    expect(toSlack?.headers["content-type"]).toBe("application/json");
    expect(s.text).toMatch(/^Fixture changed/);
    expect(JSON.stringify(s.blocks)).toContain("+ Sold out: Figs");
    expect(d.embeds[0].title).toMatch(/^Fixture changed/);
    expect(d.embeds[0].url).toBe(`https://api.snaptrack.test/app/screenshots/${changed.id}/compare`);
    expect(JSON.stringify(d.embeds[0].fields)).toContain("Sold out: Figs");
    // The unchanged third comparison sent nothing.
    expect(await slack.received()).toHaveLength(1);
  });

  it("a test alert reaches the channel and shows in its delivery log", async () => {
    const { data } = await body<{ data: Channel[] }>(await call("/v1/alert-channels", { headers: acc.auth }));
    const slackChannel = data.find((c) => c.type === "slack") as Channel;
    const res = await call(`/v1/alert-channels/${slackChannel.id}/test`, { method: "POST", headers: acc.auth });
    expect(res.status).toBe(202);
    const got = await receivedAtLeast(slack.t, 2);
    const payload = JSON.parse(got[1]?.body ?? "{}");
    valid(SLACK, payload);
    expect(payload.text).toBe("SnapTrack test alert");
    await deliveriesSettled(acc, slackChannel.id);
    const log = await body<{ data: { kind: string; status: string; last_status_code: number }[] }>(
      await call(`/v1/alert-channels/${slackChannel.id}/deliveries`, { headers: acc.auth }),
    );
    expect(log.data.map((d) => [d.kind, d.status, d.last_status_code])).toEqual([
      ["test", "delivered", 200],
      ["alert", "delivered", 200],
    ]);
  });
});

describe("confirm: a second capture 60 s later (2 s in tests) must agree", () => {
  let acc: TestAccount;
  let gone: Compared;
  let kept: Compared;

  beforeAll(async () => {
    acc = await newAccount("business");
    await channel(acc, { type: "email", target: acc.email });
    // The page changes and changes back before the confirming capture: transient.
    const flicker = await site(acc, seqUrl("a,b,a"), { confirm: true });
    await shot(acc, flicker.id);
    gone = await shot(acc, flicker.id);
    // It changes and stays changed: confirmed, reported on the capture that saw it first.
    const lasting = await site(acc, seqUrl("a,b,b"), { confirm: true });
    await shot(acc, lasting.id);
    kept = await shot(acc, lasting.id);
  }, 150_000);

  it("a change gone by the confirming capture is stored transient, not changed, and alerts nobody", async () => {
    expect(gone.comparison).toMatchObject({ status: "completed", changed: false, transient: true });
    expect(gone.comparison?.text?.added).toContain("Cherries 7 €"); // what it saw is kept
    const [confirming] = await accountSql<{ id: string; comparison: string; changed: number }>(
      acc.id,
      "SELECT id, changed FROM screenshots WHERE confirms = ?",
      gone.id,
    );
    expect(confirming?.changed).toBe(0);
  });

  it("a change the confirming capture shows too is reported once, with one email", async () => {
    expect(kept.comparison).toMatchObject({ status: "completed", changed: true, transient: false });
    const mails = await mailsTo(acc, acc.email, 1);
    expect(mails.map((m) => m.subject)).toEqual([expect.stringMatching(/^Fixture changed/)]);
    expect(mails[0]?.html).toContain(`/app/screenshots/${kept.id}/compare`);
    // The confirming capture counts toward quota like any capture.
    const [n] = await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM screenshots");
    expect(n?.n).toBe(6);
  });
});

describe("a failing site: one failure alert, then recovered", () => {
  it("tells what failed and why, once per streak, and when it works again", async () => {
    const acc = await newAccount("business");
    await channel(acc, { type: "email", target: acc.email, events: ["screenshot.failed", "recovered"] });
    const w = await site(acc, seqUrl("a,down,down,a"));
    await shot(acc, w.id);
    const failed = await shot(acc, w.id);
    expect(failed.status).toBe("failed");
    await shot(acc, w.id); // still down: no second failure alert
    const back = await shot(acc, w.id);
    expect(back.status).toBe("completed");
    const mails = (await mailsTo(acc, acc.email, 2)).reverse();
    expect(mails.map((m) => m.subject)).toEqual(["Fixture could not be captured", "Fixture works again"]);
    expect(mails[0]?.text).toContain("Why: The page answered HTTP 500");
    expect(mails[0]?.html).toContain(`/app/screenshots/${failed.id}`);
    expect(mails[1]?.html).toContain(`/app/screenshots/${back.id}`);
    const [row] = await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM alerts");
    expect(row?.n).toBe(2);
  });
});

describe("addresses outside the team, digests, rights", () => {
  it("an unverified address receives nothing but its confirmation (once, however often the create is retried); once confirmed it gets alerts", async () => {
    const acc = await newAccount("business");
    const stranger = `stranger.${crypto.randomUUID()}@example.com`;
    // Created with an Idempotency-Key: a retried request answers the same channel and mails nothing more.
    const headers = { ...acc.auth, "Idempotency-Key": `alc-${crypto.randomUUID()}` };
    const create = () =>
      call(
        "/v1/alert-channels",
        jsonInit("POST", { type: "email", target: stranger, events: ["screenshot.failed"] }, headers),
      );
    const created = await create();
    expect(created.status).toBe(201);
    const ch = await body<Channel>(created);
    expect(ch).toMatchObject({ verified: false, enabled: true, created_by: null });
    const replayed = await create();
    expect(replayed.status).toBe(201);
    expect((await body<Channel>(replayed)).id).toBe(ch.id);
    expect(await accountSql(acc.id, "SELECT id FROM alert_channels")).toEqual([{ id: ch.id }]);
    const [confirmation] = await mailsTo(acc, stranger, 1);
    expect(confirmation?.subject).toBe("Confirm SnapTrack alerts to this address");
    // A failure now raises nothing for it: unverified channels send nothing (and a test is refused).
    const w = await site(acc, seqUrl("down"));
    expect((await shot(acc, w.id)).status).toBe("failed");
    await expectError(
      await call(`/v1/alert-channels/${ch.id}/test`, { method: "POST", headers: acc.auth }),
      409,
      "conflict",
    );
    expect(await outbox(acc, stranger)).toHaveLength(1);
    expect(await accountSql(acc.id, "SELECT id FROM alert_deliveries WHERE kind = 'alert'")).toEqual([]);

    // The link shows what it does, and only a POST confirms.
    const link = /https:\/\/api\.snaptrack\.test(\/alerts\/verify\/[^\s"<]+)/.exec(confirmation?.text ?? "")?.[1] ?? "";
    const shown = await pageFetch(link, { headers: { accept: "text/html" } });
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain(stranger);
    expect((await body<Channel>(await call(`/v1/alert-channels/${ch.id}`, { headers: acc.auth }))).verified).toBe(
      false,
    );
    expect((await pageFetch(link, { method: "POST" })).status).toBe(200);
    expect((await body<Channel>(await call(`/v1/alert-channels/${ch.id}`, { headers: acc.auth }))).verified).toBe(true);
    expect((await pageFetch(link, { method: "POST" })).status).toBe(404); // used once
    expect((await call(`/v1/alert-channels/${ch.id}/test`, { method: "POST", headers: acc.auth })).status).toBe(202);
    const mails = await mailsTo(acc, stranger, 2);
    expect(mails[0]?.subject).toBe("SnapTrack test alert");
  });

  it("a daily channel gets one digest at 08:00 in the account's time zone, nothing when nothing happened", async () => {
    const acc = await newAccount("business");
    const tz = await call("/v1/alert-settings", jsonInit("PATCH", { timezone: "Asia/Tokyo" }, acc.auth));
    expect(await body(tz)).toEqual({ timezone: "Asia/Tokyo" });
    const daily = await channel(acc, { type: "email", target: acc.email, frequency: "daily" });
    const w = await site(acc, seqUrl("down"));
    await shot(acc, w.id);
    expect(await outbox(acc, acc.email)).toHaveLength(0); // daily: nothing at once
    // The next 08:00 in Tokyo (23:00 UTC) after now, and the morning after it.
    const now = Date.now();
    const morning = Date.UTC(
      new Date(now).getUTCFullYear(),
      new Date(now).getUTCMonth(),
      new Date(now).getUTCDate(),
      23,
    );
    const first = morning > now ? morning : morning + 86_400_000;
    const woke = await inAccount(acc.id, (_db, object) => object.wake(acc.id, first + 1_000));
    expect(woke.digests).toBe(1);
    const [digest] = await mailsTo(acc, acc.email, 1);
    expect(digest?.subject).toMatch(/^SnapTrack daily digest: 1 alert \(\d{4}-\d{2}-\d{2}\)$/);
    expect(digest?.text).toContain("Fixture could not be captured");
    // The same morning again, and the next one with nothing new: no second digest.
    expect((await inAccount(acc.id, (_db, object) => object.wake(acc.id, first + 2_000))).digests).toBe(0);
    expect((await inAccount(acc.id, (_db, object) => object.wake(acc.id, first + 86_400_000 + 1_000))).digests).toBe(0);
    await deliveriesSettled(acc, daily.id);
    expect(await outbox(acc, acc.email)).toHaveLength(1);
  });

  it("checks what is stored: targets through the SSRF guard, regexes for catastrophic backtracking, websites, the plan's count", async () => {
    const acc = await newAccount("business");
    const bad = async (input: Record<string, unknown>, field: string) => {
      const err = await expectError(
        await call("/v1/alert-channels", jsonInit("POST", input, acc.auth)),
        422,
        "validation_failed",
      );
      expect(Object.keys(err.errors ?? {})).toContain(field);
    };
    await bad({ type: "email", target: "not an address" }, "target");
    await bad({ type: "slack", target: "http://127.0.0.2/hook" }, "target");
    await bad({ type: "discord", target: "https://example.com/api/webhooks/1/x" }, "target");
    await bad({ type: "slack", target: FIXTURE(), events: [] }, "events");
    const other = await newAccount("starter");
    const theirs = await createWebsite(other, `${FIXTURE()}/colors`);
    await expectError(
      await call(
        "/v1/alert-channels",
        jsonInit("POST", { type: "email", target: acc.email, website_ids: [theirs.id] }, acc.auth),
      ),
      404,
      "not_found",
    );
    const w = await createWebsite(acc, `${FIXTURE()}/colors`);
    const trigger = async (value: string) =>
      call(
        `/v1/websites/${w.id}`,
        jsonInit("PATCH", { change_detection: { triggers: [{ type: "text_appears", value, regex: true }] } }, acc.auth),
      );
    const evil = await expectError(await trigger("^(a+)+$"), 422, "validation_failed");
    expect(evil.errors?.["change_detection.triggers.0.value"]?.[0]).toMatch(/catastrophic backtracking/);
    await expectError(await trigger("(unclosed"), 422, "validation_failed");
    expect((await trigger("^In stock: \\d+$")).status).toBe(200);
    // A channel naming websites forgets one that is deleted, so what it answers can be sent back.
    const kept = await createWebsite(acc, `${FIXTURE()}/colors`);
    const named = await channel(acc, { type: "email", target: acc.email, website_ids: [w.id, kept.id] });
    expect((await call(`/v1/websites/${w.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    const read = await body<Channel>(await call(`/v1/alert-channels/${named.id}`, { headers: acc.auth }));
    expect(read.website_ids).toEqual([kept.id]);
    const sentBack = await call(
      `/v1/alert-channels/${named.id}`,
      jsonInit("PATCH", { website_ids: read.website_ids }, acc.auth),
    );
    expect(sentBack.status).toBe(200);
    const starter = await newAccount("starter"); // 3 channels, 5 requests a minute
    for (let i = 0; i < 3; i++) await channel(starter, { type: "slack", target: `${FIXTURE()}/__hook?t=limit-${i}` });
    await expectError(
      await call(
        "/v1/alert-channels",
        jsonInit("POST", { type: "slack", target: `${FIXTURE()}/__hook` }, starter.auth),
      ),
      403,
      "plan_limit_reached",
    );
    // Going down to Free (1 channel), the confirmation page says what happens to the other two.
    const downgrade = await (await get(starter.cookie, "/app/settings/plan/change?plan=free")).text();
    expect(downgrade).toContain(
      "You have 3 alert channels; free allows 1. They keep alerting, but no channel can be added.",
    );
  });

  it("another account's channels are 404; members see channels, only owners manage them; removing the creator disables theirs", async () => {
    const owner = await newAccount("pro");
    const stranger = await newAccount("pro");
    const mine = await channel(owner, { type: "slack", target: `${FIXTURE()}/__hook?t=rights` });
    for (const [method, path] of [
      ["GET", `/v1/alert-channels/${mine.id}`],
      ["PATCH", `/v1/alert-channels/${mine.id}`],
      ["DELETE", `/v1/alert-channels/${mine.id}`],
      ["POST", `/v1/alert-channels/${mine.id}/test`],
      ["GET", `/v1/alert-channels/${mine.id}/deliveries`],
    ] as const) {
      const init =
        method === "PATCH" ? jsonInit(method, { enabled: false }, stranger.auth) : { method, headers: stranger.auth };
      await expectError(await call(path, init), 404, "not_found");
    }
    expect((await get(stranger.cookie, `/app/settings/alerts/${mine.id}`)).status).toBe(404);

    // Members see Settings → Alerts and the channel's page, without the forms; writes are refused.
    const member = await addMember(owner);
    const page = await get(member.cookie, "/app/settings/alerts");
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain(mine.target.replace(/&/g, "&amp;"));
    expect(text).not.toContain('id="add-channel"');
    expect((await post(member.cookie, "/app/settings/alerts", { type: "email", target: member.email })).status).toBe(
      403,
    );
    expect((await post(member.cookie, `/app/settings/alerts/${mine.id}/disable`)).status).toBe(403);

    // A channel an owner added in the dashboard is theirs; removing them disables it.
    const second = await addMember(owner, "owner");
    const added = await post(second.cookie, "/app/settings/alerts", {
      type: "discord",
      target: `${FIXTURE()}/__hook?t=removed-owner`,
      events: ["change.detected"],
      websites: "all",
      frequency: "instant",
    });
    expect(added.status, await added.clone().text()).toBe(303);
    const id = (added.headers.get("location") ?? "").split("/").pop()?.split("?")[0] ?? "";
    expect((await body<Channel>(await call(`/v1/alert-channels/${id}`, { headers: owner.auth }))).created_by).toBe(
      second.id,
    );
    expect(
      (await call(`/account/members/${second.id}`, { method: "DELETE", headers: { cookie: owner.cookie } })).status,
    ).toBe(204);
    const after = await body<Channel>(await call(`/v1/alert-channels/${id}`, { headers: owner.auth }));
    expect(after).toMatchObject({ enabled: false });
    expect(after.disabled_reason).toMatch(/removed from the account/);
    expect((await body<Channel>(await call(`/v1/alert-channels/${mine.id}`, { headers: owner.auth }))).enabled).toBe(
      true,
    );
  });
});
