import { desc, eq, lte } from "drizzle-orm";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { type OutboxMail, outbox } from "../db/schema";
import { base64ToBytes, bytesToBase64 } from "../lib/crypto";
import { notFound } from "../lib/errors";
import type { InlineImage, KeptMail } from "./message";

/** The outbox keeps this many messages (the newest); it is a local developer's view, not an archive. */
export const OUTBOX_KEEP = 200;

/** Keeps a sent message in the account's outbox (local only; see `sendMail`). */
export async function keepMail(db: Db, mail: KeptMail, now: number): Promise<string> {
  const id = newId("mail", now);
  await db.insert(outbox).values({
    id,
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    headers: JSON.stringify(mail.headers ?? {}),
    inline: JSON.stringify(
      (mail.inline ?? []).map((i) => ({
        contentId: i.contentId,
        filename: i.filename,
        type: i.type,
        base64: bytesToBase64(i.content),
      })),
    ),
    sent: mail.sent,
    error: mail.error,
    createdAt: now,
  });
  const oldest = await db.select({ id: outbox.id }).from(outbox).orderBy(desc(outbox.id)).limit(1).offset(OUTBOX_KEEP);
  if (oldest[0]) await db.delete(outbox).where(lte(outbox.id, oldest[0].id));
  return id;
}

/** The outbox, newest first (optionally only what went to one address). */
export function listOutbox(db: Db, limit = 50, to?: string): Promise<OutboxMail[]> {
  return db
    .select()
    .from(outbox)
    .where(to ? eq(outbox.to, to) : undefined)
    .orderBy(desc(outbox.id))
    .limit(limit);
}

export async function getOutboxMail(db: Db, id: string): Promise<OutboxMail> {
  const row = await db.select().from(outbox).where(eq(outbox.id, id)).get();
  if (!row) throw notFound("Message");
  return row;
}

/** A kept message's inline images, as `sendMail` was given them. */
export function inlineImages(row: OutboxMail): InlineImage[] {
  return (JSON.parse(row.inline) as { contentId: string; filename: string; type: string; base64: string }[]).map(
    (i) => ({ contentId: i.contentId, filename: i.filename, type: i.type, content: base64ToBytes(i.base64) }),
  );
}

export const outboxHeaders = (row: OutboxMail) => JSON.parse(row.headers) as Record<string, string>;
