/**
 * What a user added that keeps acting for the account after they leave: webhook endpoints
 * and alert channels. Removing a member lists these (the owner decides which to keep)
 * and disables the rest. Each kind registers how to list and disable its rows here, so the
 * removal page and `DELETE /account/members/{id}` cover every kind without knowing them.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { webhooks } from "../db/schema";
import { channelsCreatedBy, disableChannelsCreatedBy } from "./alert-channels";

export interface CreatedThing {
  /** The kind's key in CREATED_KINDS. */
  kind: string;
  id: string;
  /** What the owner recognises it by (a URL, a description). */
  label: string;
  enabled: boolean;
  /** The page that shows it. */
  href: string;
}

export interface CreatedKind {
  /** Plural noun for headings ("Webhook endpoints"). */
  title: string;
  list(db: Db, userId: string): Promise<CreatedThing[]>;
  /** Disables these of the user's rows, saying why. */
  disable(db: Db, userId: string, ids: string[], reason: string, now: number): Promise<void>;
}

export const CREATED_KINDS: Record<string, CreatedKind> = {
  webhook: {
    title: "Webhook endpoints",
    async list(db, userId) {
      const rows = await db
        .select({ id: webhooks.id, url: webhooks.url, description: webhooks.description, enabled: webhooks.enabled })
        .from(webhooks)
        .where(eq(webhooks.createdBy, userId))
        .orderBy(webhooks.id);
      return rows.map((w) => ({
        kind: "webhook",
        id: w.id,
        label: w.description ? `${w.description} (${w.url})` : w.url,
        enabled: w.enabled,
        href: `/app/settings/webhooks/${w.id}`,
      }));
    },
    async disable(db, userId, ids, reason, now) {
      if (ids.length === 0) return;
      await db
        .update(webhooks)
        .set({ enabled: false, disabledReason: reason, updatedAt: now })
        .where(and(eq(webhooks.createdBy, userId), inArray(webhooks.id, ids), eq(webhooks.enabled, true)));
    },
  },
  alert_channel: {
    title: "Alert channels",
    list: channelsCreatedBy,
    async disable(db, userId, ids, reason, now) {
      await disableChannelsCreatedBy(db, userId, reason, now, ids);
    },
  },
};

/** Everything `userId` added, of every kind, in CREATED_KINDS order. */
export async function createdBy(db: Db, userId: string): Promise<CreatedThing[]> {
  const lists = await Promise.all(Object.values(CREATED_KINDS).map((k) => k.list(db, userId)));
  return lists.flat();
}

/**
 * After `userId` left the account: disables what they added, except the ids in `keep`.
 * Returns what was disabled.
 */
export async function disableCreatedBy(
  db: Db,
  userId: string,
  userName: string,
  keep: ReadonlySet<string>,
  now: number,
): Promise<CreatedThing[]> {
  const reason = `Added by ${userName}, who was removed from the account.`;
  const disabled: CreatedThing[] = [];
  for (const [key, kind] of Object.entries(CREATED_KINDS)) {
    const rows = (await kind.list(db, userId)).filter((t) => t.enabled && !keep.has(t.id));
    await kind.disable(
      db,
      userId,
      rows.map((t) => t.id),
      reason,
      now,
    );
    disabled.push(...rows.map((t) => ({ ...t, kind: key, enabled: false })));
  }
  return disabled;
}
