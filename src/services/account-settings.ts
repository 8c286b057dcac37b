/**
 * A user's own settings (the contract's "Account and password"): their name, their password
 * (changed knowing the current one, or reset through a mailed single-use link) and, for
 * owners, deleting the account with everything in it.
 */
import { and, eq, gt, ne, sql } from "drizzle-orm";
import { accountPrefix } from "../capture/keys";
import type { DirectoryDb } from "../db/client";
import { accounts, passwordResets, sessions, type User, users } from "../db/schema";
import { HOUR, MINUTE } from "../lib/clock";
import { hashPassword, randomSecret, sha256Hex, verifyPassword } from "../lib/crypto";
import { ApiError, validationError } from "../lib/errors";
import { beginLogin, type LoginThrottler } from "../limits/login-throttle";
import { compose } from "../mail/compose";
import { type MailEnv, type MailResult, type Outbox, sendMail } from "../mail/mail";
import { enqueue } from "../queue/messages";
import { isOwner, normalizeEmail, type SessionUser } from "./auth";

/** A reset link works once, for this long. */
export const RESET_TTL = HOUR;
/** Asking again this soon sends no second mail (the first link still works). */
export const RESET_RESEND_AFTER = MINUTE;

/** Where a reset link points (the dashboard's page that asks for the new password). */
export const resetPath = (token: string) => `/reset-password/${token}`;

/**
 * The user's own name. An account is named after its owners (signing up named it), so an
 * owner's new name is the account's too: invitations and the team page show it.
 */
export async function renameUser(
  db: DirectoryDb,
  changed: () => void,
  user: SessionUser,
  accountId: string,
  name: string,
  now: number,
): Promise<void> {
  const trimmed = name.trim();
  const renameUserRow = db.update(users).set({ name: trimmed, updatedAt: now }).where(eq(users.id, user.id));
  if (isOwner(user)) {
    await db.batch([
      renameUserRow,
      db.update(accounts).set({ name: trimmed, updatedAt: now }).where(eq(accounts.id, accountId)),
    ]);
    changed();
  } else {
    await renameUserRow;
  }
}

/**
 * Checks the user's password as a login would: throttled by the login limits for their email
 * (so a stolen session cannot guess it faster than the login page), the failure counted.
 */
async function checkPassword(
  db: DirectoryDb,
  throttler: LoginThrottler,
  user: Pick<SessionUser, "id" | "email">,
  password: string,
  field: string,
  now: number,
  requestId: string,
): Promise<User> {
  const attempt = await beginLogin(
    throttler,
    { email: normalizeEmail(user.email), address: undefined },
    now,
    requestId,
  );
  const row = await db.select().from(users).where(eq(users.id, user.id)).get();
  if (!row || !(await verifyPassword(password, row.passwordHash))) {
    await attempt.failed();
    throw validationError({ [field]: ["Is not your current password"] }, "The password is wrong.");
  }
  await attempt.succeeded();
  return row;
}

/** A new password, knowing the current one; every other session of the user ends. */
export async function changePassword(
  db: DirectoryDb,
  throttler: LoginThrottler,
  user: SessionUser,
  sessionId: string,
  input: { current_password: string; new_password: string },
  now: number,
  requestId: string,
): Promise<void> {
  await checkPassword(db, throttler, user, input.current_password, "current_password", now, requestId);
  const passwordHash = await hashPassword(input.new_password);
  const keep = await sha256Hex(sessionId);
  await db.batch([
    db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, user.id)),
    db.delete(sessions).where(and(eq(sessions.userId, user.id), ne(sessions.idHash, keep))),
  ]);
}

/**
 * A reset link for the login with this email, or null: no such login, or one was mailed less
 * than a minute ago (its link still works). Whoever asks learns nothing either way.
 */
export async function startPasswordReset(db: DirectoryDb, email: string, now: number) {
  const user = await db
    .select({ id: users.id, email: users.email, name: users.name, accountId: users.accountId })
    .from(users)
    .where(eq(users.email, normalizeEmail(email)))
    .get();
  if (!user) return null;
  const recent = await db
    .select({ createdAt: passwordResets.createdAt })
    .from(passwordResets)
    .where(and(eq(passwordResets.userId, user.id), gt(passwordResets.expiresAt, now)))
    .get();
  if (recent && recent.createdAt > now - RESET_RESEND_AFTER) return null;
  const token = randomSecret();
  const row = { tokenHash: await sha256Hex(token), userId: user.id, createdAt: now, expiresAt: now + RESET_TTL };
  // One link per user: a new one replaces the earlier.
  await db
    .insert(passwordResets)
    .values(row)
    .onConflictDoUpdate({
      target: passwordResets.userId,
      set: { tokenHash: row.tokenHash, createdAt: now, expiresAt: row.expiresAt },
    });
  return { user, token };
}

export function mailPasswordReset(env: MailEnv, outbox: Outbox, to: string, link: string): Promise<MailResult> {
  return sendMail(
    env,
    outbox,
    compose({
      to,
      subject: "Reset your SnapTrack password",
      lines: [
        "Someone (we hope you) asked to reset the password of your SnapTrack login.",
        "Choose a new one with the button below.",
      ],
      action: { label: "Choose a new password", href: link },
      footer: [
        `The link works once, for ${RESET_TTL / MINUTE} minutes.`,
        "If you did not ask for this, ignore this mail: your password stays as it is.",
      ],
    }),
  );
}

/**
 * `POST /auth/password-reset` and the dashboard's form: a link mailed to the login with this
 * email, if there is one (nothing tells the asker which). `outboxOf` names where the
 * account's copy goes locally.
 */
export async function requestPasswordReset(
  db: DirectoryDb,
  env: MailEnv,
  outboxOf: (accountId: string) => Outbox,
  email: string,
  origin: string,
  now: number,
): Promise<void> {
  const started = await startPasswordReset(db, email, now);
  if (!started) return;
  const { user, token } = started;
  await mailPasswordReset(env, outboxOf(user.accountId), user.email, new URL(resetPath(token), origin).href);
}

const invalidReset = () =>
  new ApiError("not_found", "This reset link does not work: it was used already, or it expired. Ask for a new one.");

/** The login a reset link is for (its page shows the email), or not_found. */
export async function resetFor(db: DirectoryDb, token: string, now: number) {
  const row = await db
    .select({ userId: passwordResets.userId, email: users.email })
    .from(passwordResets)
    .innerJoin(users, eq(users.id, passwordResets.userId))
    .where(and(eq(passwordResets.tokenHash, await sha256Hex(token)), gt(passwordResets.expiresAt, now)))
    .get();
  if (!row) throw invalidReset();
  return row;
}

/** Sets the new password, uses the link up and ends every session of the user. */
export async function confirmPasswordReset(
  db: DirectoryDb,
  input: { token: string; password: string },
  now: number,
): Promise<{ email: string }> {
  const tokenHash = await sha256Hex(input.token);
  const { userId, email } = await resetFor(db, input.token, now);
  const passwordHash = await hashPassword(input.password);
  // One transaction: the password is set and the sessions end only while the link is still
  // valid, and the link is used up with them (two confirmations cannot both succeed).
  const stillValid = sql`EXISTS (SELECT 1 FROM ${passwordResets} WHERE ${passwordResets.tokenHash} = ${tokenHash} AND ${passwordResets.expiresAt} > ${now})`;
  const [updated] = await db.batch([
    db
      .update(users)
      .set({ passwordHash, updatedAt: now })
      .where(and(eq(users.id, userId), stillValid))
      .returning({ id: users.id }),
    db.delete(sessions).where(and(eq(sessions.userId, userId), stillValid)),
    db.delete(passwordResets).where(eq(passwordResets.tokenHash, tokenHash)),
  ]);
  if (updated.length === 0) throw invalidReset();
  return { email };
}

/**
 * Deletes the account's directory rows (users, sessions, invitations, token, resets go with
 * it). The caller deletes its R2 objects and its object's storage (the account's own data).
 * Owners only; the password is checked as a login would be.
 */
async function deleteAccountRecords(
  db: DirectoryDb,
  throttler: LoginThrottler,
  user: SessionUser,
  accountId: string,
  password: string,
  now: number,
  requestId: string,
): Promise<void> {
  if (!isOwner(user)) throw new ApiError("forbidden", "Only an owner of the account can delete it.");
  await checkPassword(db, throttler, user, password, "password", now, requestId);
  await db.delete(accounts).where(eq(accounts.id, accountId));
}

/**
 * `DELETE /account`: the directory rows (checked and deleted above), then the account's
 * images (R2, purged by prefix in the background) and its own database (`erase`: the
 * object's storage).
 */
export async function deleteAccount(
  db: DirectoryDb,
  throttler: LoginThrottler,
  jobs: Queue,
  erase: () => Promise<void>,
  user: SessionUser,
  accountId: string,
  password: string,
  now: number,
  requestId: string,
): Promise<void> {
  await deleteAccountRecords(db, throttler, user, accountId, password, now, requestId);
  await enqueue(jobs, { type: "purge_prefix", prefix: accountPrefix(accountId) });
  await erase();
  console.log(JSON.stringify({ level: "info", msg: "account deleted", account_id: accountId, request_id: requestId }));
}
