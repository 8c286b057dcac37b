/**
 * Alert channels: where people are told of changes and failures (an email address, a Slack or
 * Discord incoming webhook). Owners manage them, members see them (the routes and pages say
 * who may call what). An email address outside the team is confirmed before anything is sent
 * to it; every email carries a one-click unsubscribe (RFC 8058) that disables just its channel.
 * Tokens in links name the account (`<account id>.<random>`, so the Worker knows which object
 * to ask) and are stored only as SHA-256 hashes.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { checkUrl, type GuardPolicy, isAllowlisted } from "../capture/url-guard";
import type { Db, DirectoryDb } from "../db/client";
import { newId } from "../db/ids";
import { listPage, rowById } from "../db/owned";
import { type AlertChannel, alertChannels, users, websites } from "../db/schema";
import { iso } from "../lib/clock";
import { randomSecret, sha256Hex } from "../lib/crypto";
import { ApiError, notFound, validationError } from "../lib/errors";
import { ALERT_EVENT_TYPES, type AlertChannelType, type AlertEventType, type AlertFrequency } from "../lib/values";
import type { Plan } from "../limits/plans";
import { normalizeEmail } from "./auth";

export function alertChannelView(ch: AlertChannel) {
  return {
    id: ch.id,
    type: ch.type,
    target: ch.target,
    events: JSON.parse(ch.events) as AlertEventType[],
    website_ids: ch.websiteIds === null ? null : (JSON.parse(ch.websiteIds) as string[]),
    frequency: ch.frequency,
    verified: ch.verified,
    enabled: ch.enabled,
    disabled_reason: ch.disabledReason,
    created_by: ch.createdBy,
    created_at: iso(ch.createdAt),
    updated_at: iso(ch.updatedAt),
  };
}

export type AlertChannelView = ReturnType<typeof alertChannelView>;

export interface AlertChannelInput {
  type: AlertChannelType;
  target: string;
  events?: AlertEventType[];
  website_ids?: string[] | null;
  frequency?: AlertFrequency;
  enabled?: boolean;
}

/** A link token: the account's id (which object to ask), then the secret part. */
export const linkToken = (accountId: string) => `${accountId}.${randomSecret(32)}`;
export const tokenAccount = (token: string) => {
  const [account, secret, ...rest] = token.split(".");
  return account && secret && rest.length === 0 && /^acc_[0-9a-z]{26}$/.test(account) ? account : null;
};

/** Why SnapTrack disabled a channel whose email was unsubscribed. */
export const UNSUBSCRIBED_REASON = "Unsubscribed from an email (one click). Enable it again to resume.";

/** Slack's and Discord's incoming-webhook hosts (deployed, a channel's URL must be on its service's). */
const HOOK_HOSTS: Record<"slack" | "discord", RegExp> = {
  slack: /^hooks\.slack\.com$/,
  discord: /^(discord\.com|discordapp\.com|ptb\.discord\.com|canary\.discord\.com)$/,
};

/**
 * A Slack or Discord incoming-webhook URL: https, through the SSRF guard (as webhook endpoints),
 * on the service's own host. Locally (the guard's allow-list, loopback only) a test receiver
 * is accepted over http instead: nothing leaves the machine.
 */
export async function checkHookUrl(
  type: "slack" | "discord",
  raw: string,
  policy: GuardPolicy,
  mode: "storing" | "capturing",
) {
  const verdict = await checkUrl(raw, policy, mode);
  if (!verdict.ok) return verdict;
  if (isAllowlisted(verdict.url, policy)) return verdict;
  if (verdict.url.protocol !== "https:") return { ok: false, reason: "Must be an https URL" } as const;
  if (!HOOK_HOSTS[type].test(verdict.url.hostname)) {
    return {
      ok: false,
      reason:
        type === "slack"
          ? "Must be a Slack incoming-webhook URL (https://hooks.slack.com/services/…)"
          : "Must be a Discord webhook URL (https://discord.com/api/webhooks/…)",
    } as const;
  }
  return verdict;
}

const EMAIL = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;

async function storedTarget(type: AlertChannelType, raw: string, policy: GuardPolicy): Promise<string> {
  const target = raw.trim();
  if (type === "email") {
    if (!EMAIL.test(target) || target.length > 254) throw validationError({ target: ["Must be an email address"] });
    return normalizeEmail(target);
  }
  const verdict = await checkHookUrl(type, target, policy, "storing");
  if (!verdict.ok) throw validationError({ target: [verdict.reason] });
  return verdict.url.toString();
}

/** Website ids must be the account's own (another account's is the same 404 as a missing one). */
async function storedWebsites(db: Db, ids: string[] | null | undefined): Promise<string | null> {
  if (ids === null || ids === undefined) return null;
  const unique = [...new Set(ids)];
  if (unique.length > 0) {
    const found = await db.select({ id: websites.id }).from(websites).where(inArray(websites.id, unique));
    if (found.length !== unique.length) throw notFound("Website");
  }
  return JSON.stringify(unique);
}

const storedEvents = (events: AlertEventType[] | undefined) =>
  JSON.stringify(events ? ALERT_EVENT_TYPES.filter((t) => events.includes(t)) : ALERT_EVENT_TYPES);

/** The emails of the account's own users (those need no confirmation). */
export async function teamEmails(directory: DirectoryDb, accountId: string): Promise<string[]> {
  const rows = await directory.select({ email: users.email }).from(users).where(eq(users.accountId, accountId));
  return rows.map((r) => normalizeEmail(r.email));
}

export const getAlertChannel = (db: Db, id: string): Promise<AlertChannel> =>
  rowById(db, alertChannels, id, "Alert channel");

export const listAlertChannels = (db: Db, q: { limit: number; cursor?: string }) =>
  listPage(db, alertChannels, q, alertChannelView);

/** A channel and, for an address outside the team, the confirmation token to mail (shown nowhere else). */
export interface ChannelWrite {
  channel: AlertChannel;
  verifyToken: string | null;
}

/**
 * Creates a channel, counted against the plan in the same statement. An email address outside
 * the team starts unverified, with a confirmation token for the caller to mail.
 */
export async function createAlertChannel(
  db: Db,
  accountId: string,
  plan: Plan,
  input: AlertChannelInput,
  ctx: { policy: GuardPolicy; team: string[]; createdBy: string | null; now: number },
): Promise<ChannelWrite> {
  const target = await storedTarget(input.type, input.target, ctx.policy);
  const websiteIds = await storedWebsites(db, input.website_ids);
  const id = newId("alertChannel", ctx.now);
  const verifyToken = input.type === "email" && !ctx.team.includes(target) ? linkToken(accountId) : null;
  const unsubscribe = linkToken(accountId);
  const rows = await db.all<{ id: string }>(sql`
    INSERT INTO alert_channels (id, type, target, events, website_ids, frequency, verified, verify_token_hash,
      unsubscribe_token, enabled, created_by, digested_until, created_at, updated_at)
    SELECT ${id}, ${input.type}, ${target}, ${storedEvents(input.events)}, ${websiteIds}, ${input.frequency ?? "instant"},
      ${verifyToken ? 0 : 1}, ${verifyToken ? await sha256Hex(verifyToken) : null}, ${unsubscribe},
      ${input.enabled === false ? 0 : 1}, ${ctx.createdBy}, ${ctx.now}, ${ctx.now}, ${ctx.now}
    WHERE (SELECT count(*) FROM alert_channels) < ${plan.alertChannels}
    RETURNING id`);
  if (rows.length === 0) {
    const n = plan.alertChannels;
    throw new ApiError(
      "plan_limit_reached",
      `The ${plan.id} plan allows ${n} alert channel${n === 1 ? "" : "s"}. Delete one or upgrade.`,
    );
  }
  return { channel: await getAlertChannel(db, id), verifyToken };
}

/**
 * Partial update. A new email address outside the team must be confirmed again; enabling
 * again clears SnapTrack's reason and the failure streak.
 */
export async function updateAlertChannel(
  db: Db,
  accountId: string,
  id: string,
  patch: Partial<Omit<AlertChannelInput, "type">>,
  ctx: { policy: GuardPolicy; team: string[]; now: number },
): Promise<ChannelWrite> {
  const current = await getAlertChannel(db, id);
  const set: Partial<AlertChannel> = { updatedAt: ctx.now };
  let verifyToken: string | null = null;
  if (patch.target !== undefined) {
    set.target = await storedTarget(current.type, patch.target, ctx.policy);
    if (current.type === "email" && set.target !== current.target) {
      const outside = !ctx.team.includes(set.target);
      verifyToken = outside ? linkToken(accountId) : null;
      set.verified = !outside;
      set.verifyTokenHash = verifyToken ? await sha256Hex(verifyToken) : null;
    }
  }
  if (patch.events !== undefined) set.events = storedEvents(patch.events);
  if (patch.website_ids !== undefined) set.websiteIds = await storedWebsites(db, patch.website_ids);
  if (patch.frequency !== undefined && patch.frequency !== current.frequency) {
    set.frequency = patch.frequency;
    // A channel that becomes daily starts its first digest from now (nothing told twice).
    set.digestedUntil = ctx.now;
  }
  if (patch.enabled !== undefined) {
    set.enabled = patch.enabled;
    set.disabledReason = null;
    if (patch.enabled) set.failingSince = null;
  }
  const [channel] = await db.update(alertChannels).set(set).where(eq(alertChannels.id, id)).returning();
  if (!channel) throw notFound("Alert channel");
  return { channel, verifyToken };
}

export async function deleteAlertChannel(db: Db, id: string): Promise<void> {
  const deleted = await db.delete(alertChannels).where(eq(alertChannels.id, id)).returning({ id: alertChannels.id });
  if (deleted.length === 0) throw notFound("Alert channel");
}

/** A new confirmation token for an unverified address (the owner asks to send the mail again). */
export async function renewVerifyToken(db: Db, accountId: string, id: string, now: number): Promise<string> {
  const channel = await getAlertChannel(db, id);
  if (channel.verified) throw new ApiError("conflict", "The address is confirmed already.");
  const token = linkToken(accountId);
  await db
    .update(alertChannels)
    .set({ verifyTokenHash: await sha256Hex(token), updatedAt: now })
    .where(eq(alertChannels.id, id));
  return token;
}

/** What a confirmation or unsubscribe link shows before it is used. */
export interface LinkedChannel {
  id: string;
  type: AlertChannelType;
  target: string;
  verified: boolean;
  enabled: boolean;
}

const linked = (ch: AlertChannel): LinkedChannel => ({
  id: ch.id,
  type: ch.type,
  target: ch.target,
  verified: ch.verified,
  enabled: ch.enabled,
});

/** The channel a link's token names, or null (unknown, used, or the channel deleted). */
export async function channelByToken(db: Db, kind: "verify" | "unsubscribe", token: string) {
  const row = await db
    .select()
    .from(alertChannels)
    .where(
      kind === "verify"
        ? eq(alertChannels.verifyTokenHash, await sha256Hex(token))
        : eq(alertChannels.unsubscribeToken, token),
    )
    .get();
  return row ? linked(row) : null;
}

/** The address confirmed: the channel sends from now on (the token works once). */
export async function verifyByToken(db: Db, token: string, now: number): Promise<LinkedChannel | null> {
  const [row] = await db
    .update(alertChannels)
    .set({ verified: true, verifyTokenHash: null, updatedAt: now })
    .where(eq(alertChannels.verifyTokenHash, await sha256Hex(token)))
    .returning();
  return row ? linked(row) : null;
}

/** One-click unsubscribe (RFC 8058): disables just this channel; repeating it changes nothing. */
export async function unsubscribeByToken(db: Db, token: string, now: number): Promise<LinkedChannel | null> {
  const [row] = await db
    .update(alertChannels)
    .set({ enabled: false, disabledReason: UNSUBSCRIBED_REASON, updatedAt: now })
    .where(and(eq(alertChannels.unsubscribeToken, token), eq(alertChannels.enabled, true)))
    .returning();
  if (row) return linked(row);
  return channelByToken(db, "unsubscribe", token);
}

/**
 * A deleted website leaves the channels that named it (their `website_ids`), so a channel's
 * list only holds websites that exist and can be sent back as it is read.
 */
export async function forgetWebsite(db: Db, websiteId: string): Promise<void> {
  await db
    .update(alertChannels)
    .set({
      websiteIds: sql`(SELECT json_group_array(value) FROM json_each(${alertChannels.websiteIds}) WHERE value != ${websiteId})`,
    })
    .where(
      sql`${alertChannels.websiteIds} IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(${alertChannels.websiteIds}) WHERE value = ${websiteId})`,
    );
}

// ---- What a removed member created (joins the team's "created by" step) --------------------

/** The channels `userId` added, for the member-removal step (label: what the owner recognises). */
export async function channelsCreatedBy(db: Db, userId: string) {
  const rows = await db
    .select({
      id: alertChannels.id,
      type: alertChannels.type,
      target: alertChannels.target,
      enabled: alertChannels.enabled,
    })
    .from(alertChannels)
    .where(eq(alertChannels.createdBy, userId))
    .orderBy(alertChannels.id);
  return rows.map((ch) => ({
    kind: "alert_channel",
    id: ch.id,
    label: `${ch.type === "email" ? "Email" : ch.type === "slack" ? "Slack" : "Discord"}: ${ch.target}`,
    enabled: ch.enabled,
    href: `/app/settings/alerts/${ch.id}`,
  }));
}

/** Disables these of `userId`'s channels (all of them when `ids` is undefined), saying why. */
export async function disableChannelsCreatedBy(
  db: Db,
  userId: string,
  reason: string,
  now: number,
  ids?: string[],
): Promise<number> {
  if (ids?.length === 0) return 0;
  const disabled = await db
    .update(alertChannels)
    .set({ enabled: false, disabledReason: reason, updatedAt: now })
    .where(
      and(
        eq(alertChannels.createdBy, userId),
        eq(alertChannels.enabled, true),
        ids ? inArray(alertChannels.id, ids) : undefined,
      ),
    )
    .returning({ id: alertChannels.id });
  return disabled.length;
}
