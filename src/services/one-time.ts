/**
 * Values shown once, after a redirect (Post/Redirect/Get): the form's POST does the work and
 * keeps its one-time result here; the page it redirects to shows it and forgets it. So a
 * reload or the back button shows the page again without the value and never repeats the
 * action (a second token, endpoint or invitation).
 */
import { and, eq, lte } from "drizzle-orm";
import type { Db } from "../db/client";
import { oneTimeValues } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { randomSecret } from "../lib/crypto";
import { decryptSecret, encryptSecret, requireSecretsKey } from "../lib/secrets";

/** How long the page after the redirect can still show the value. */
export const ONE_TIME_TTL = 5 * MINUTE;

export type OneTimeKind = "api_token" | "webhook_secret" | "invitation_link";

/** Sealed for its own row and user: a copied ciphertext opens nowhere else. */
const scope = (id: string, userId: string, kind: OneTimeKind) => `once:${kind}:${id}:${userId}`;

/** Keeps `value` for one view by `userId`; the id goes in the redirect's URL. */
export async function keepOnce(
  db: Db,
  secretsKey: string | undefined,
  userId: string,
  kind: OneTimeKind,
  value: string,
  subject: string | null,
  now: number,
): Promise<string> {
  const key = requireSecretsKey(secretsKey);
  const id = randomSecret(24);
  await purgeOnce(db, now);
  await db.insert(oneTimeValues).values({
    id,
    userId,
    kind,
    subject,
    value: await encryptSecret(key, value, scope(id, userId, kind)),
    expiresAt: now + ONE_TIME_TTL,
  });
  return id;
}

/**
 * The value kept under `id` for this user, once: the row is deleted as it is read. Null when
 * it was shown already, has expired, or is someone else's.
 */
export async function takeOnce(
  db: Db,
  secretsKey: string | undefined,
  userId: string,
  kind: OneTimeKind,
  id: string | undefined,
  now: number,
): Promise<{ value: string; subject: string | null } | null> {
  if (!id) return null;
  const [row] = await db
    .delete(oneTimeValues)
    .where(and(eq(oneTimeValues.id, id), eq(oneTimeValues.userId, userId), eq(oneTimeValues.kind, kind)))
    .returning();
  if (!row || row.expiresAt <= now) return null;
  return { value: await decryptSecret(secretsKey, row.value, scope(id, userId, kind)), subject: row.subject };
}

/** Forgets values nobody came back for (on every keep, and from the account's alarm). */
export async function purgeOnce(db: Db, now: number): Promise<void> {
  await db.delete(oneTimeValues).where(lte(oneTimeValues.expiresAt, now));
}
