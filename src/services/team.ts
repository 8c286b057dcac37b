/**
 * Teams: an account's users and the invitations to join it. Seats (owner + members + pending
 * invitations) are capped by the plan; the cap is checked inside the writing statement, so two
 * owners inviting at once cannot pass it together.
 */
import { and, asc, desc, eq, gt, type SQL, sql } from "drizzle-orm";
import type { Db, DirectoryDb } from "../db/client";
import { newId } from "../db/ids";
import { type AccountRecord, accounts, invitations, type User, users } from "../db/schema";
import { DAY, iso } from "../lib/clock";
import { hashPassword, randomSecret, sha256Hex } from "../lib/crypto";
import { ApiError, notFound } from "../lib/errors";
import type { UserRole } from "../lib/values";
import type { CaptureUsage } from "../limits/subscription";
import { compose } from "../mail/compose";
import { type MailEnv, type MailResult, type Outbox, sendMail } from "../mail/mail";
import { seatsLimit, seatsUsedSql, sessionAccountView } from "./accounts";
import { createSession, emailInUse, normalizeEmail } from "./auth";
import { disableCreatedBy } from "./created-by";

/** An invitation link works once, for this long. */
export const INVITATION_TTL = 7 * DAY;

/** Where an invitation link points (the dashboard's accept page). */
export const invitationPath = (token: string) => `/invite/${token}`;

/** Values as a SELECT list, for `INSERT … SELECT … WHERE <guard>` (drizzle keys → the table's columns). */
function literalRow<T extends Record<string, string | number | null>>(row: T) {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, sql`${v}`.as(k)])) as {
    [K in keyof T]: SQL.Aliased<T[K]>;
  };
}

const memberView = (u: Pick<User, "id" | "email" | "name" | "role" | "createdAt">) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  created_at: iso(u.createdAt),
});

const invitationView = (i: { id: string; email: string; role: UserRole; createdAt: number; expiresAt: number }) => ({
  id: i.id,
  email: i.email,
  role: i.role,
  created_at: iso(i.createdAt),
  expires_at: iso(i.expiresAt),
});

/** The team page and `GET /account/team`: members (oldest first), pending invitations, seats. One round trip. */
export async function teamView(db: DirectoryDb, account: AccountRecord, now: number) {
  const [members, pending] = await db.batch([
    db
      .select({ id: users.id, email: users.email, name: users.name, role: users.role, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.accountId, account.id))
      .orderBy(asc(users.createdAt), asc(users.id)),
    db
      .select()
      .from(invitations)
      .where(and(eq(invitations.accountId, account.id), gt(invitations.expiresAt, now)))
      .orderBy(desc(invitations.createdAt)),
  ]);
  return {
    members: members.map(memberView),
    invitations: pending.map(invitationView),
    seats_used: members.length + pending.length,
    seats_limit: seatsLimit(account, now),
  };
}

/**
 * Invites `email` with `role`. Inviting the same email again replaces its earlier link. The
 * token is returned this once (its hash is stored) for the caller to mail (`mailInvitation`)
 * and show the owner once.
 */
export async function invite(
  db: DirectoryDb,
  account: AccountRecord,
  invitedBy: string,
  input: { email: string; role: UserRole },
  now: number,
) {
  const email = normalizeEmail(input.email);
  if (await emailInUse(db, email)) {
    throw new ApiError("conflict", "This email already has a SnapTrack login; a person belongs to one account.");
  }
  const limit = seatsLimit(account, now);
  const token = randomSecret();
  const row = {
    id: newId("invitation", now),
    accountId: account.id,
    email,
    role: input.role,
    tokenHash: await sha256Hex(token),
    invitedBy,
    createdAt: now,
    expiresAt: now + INVITATION_TTL,
  };
  // The seat count is read inside the insert, in one transaction with the replacement.
  const [, inserted] = await db.batch([
    db.delete(invitations).where(and(eq(invitations.accountId, account.id), eq(invitations.email, email))),
    db
      .insert(invitations)
      .select(
        db
          .select(literalRow(row))
          .from(accounts)
          .where(and(eq(accounts.id, account.id), sql`${seatsUsedSql(account.id, now)} < ${limit}`)),
      )
      .returning({ id: invitations.id }),
  ]);
  if (inserted.length === 0) {
    throw new ApiError(
      "plan_limit_reached",
      `Your plan has ${limit} seat${limit === 1 ? "" : "s"} (owner, members and pending invitations), all in use. Upgrade, or revoke an invitation or remove a member first.`,
    );
  }
  console.log(
    JSON.stringify({
      level: "info",
      msg: "invitation created",
      account_id: account.id,
      invitation_id: row.id,
      role: row.role,
      expires_at: iso(row.expiresAt),
    }),
  );
  return { invitation: invitationView(row), token, path: invitationPath(token) };
}

export async function revokeInvitation(db: DirectoryDb, accountId: string, invitationId: string): Promise<void> {
  const deleted = await db
    .delete(invitations)
    .where(and(eq(invitations.id, invitationId), eq(invitations.accountId, accountId)))
    .returning({ id: invitations.id });
  if (deleted.length === 0) throw notFound("Invitation");
}

/** The invitation mail: who invites whom to which account, as what, and the link. */
export function mailInvitation(
  env: MailEnv,
  outbox: Outbox,
  m: { to: string; link: string; accountName: string; inviterName: string; role: UserRole; expiresAt: string },
): Promise<MailResult> {
  return sendMail(
    env,
    outbox,
    compose({
      to: m.to,
      subject: `${m.inviterName} invited you to ${m.accountName} on SnapTrack`,
      lines: [
        `${m.inviterName} invited you to join ${m.accountName} on SnapTrack as ${m.role === "owner" ? "an owner" : "a member"}.`,
        "SnapTrack watches websites by taking screenshots of them and tells you what changed.",
      ],
      action: { label: "Accept the invitation", href: m.link },
      footer: [
        `The link works once, until ${m.expiresAt.slice(0, 19).replace("T", " ")} UTC.`,
        "If you did not expect this, ignore this mail.",
      ],
    }),
  );
}

/**
 * Removing a user deletes their sessions with them (foreign key), so they are logged out at
 * once. What they added that acts for the account (webhook endpoints, alert channels) is
 * disabled unless `keep` names it (services/created-by.ts); returns the removed user's name
 * and what was disabled.
 */
export async function removeMember(
  directory: DirectoryDb,
  db: Db,
  accountId: string,
  actingUserId: string,
  userId: string,
  keep: ReadonlySet<string>,
  now: number,
) {
  if (userId === actingUserId) {
    throw new ApiError("conflict", "You cannot remove yourself; another owner can.");
  }
  const [deleted] = await directory
    .delete(users)
    .where(and(eq(users.id, userId), eq(users.accountId, accountId)))
    .returning({ id: users.id, name: users.name });
  if (!deleted) throw notFound("Member");
  const disabled = await disableCreatedBy(db, deleted.id, deleted.name, keep, now);
  return { name: deleted.name, disabled };
}

/** A user's name, if they (still) belong to the account. */
export async function memberName(db: DirectoryDb, accountId: string, userId: string): Promise<string | undefined> {
  const row = await db
    .select({ name: users.name })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.accountId, accountId)))
    .get();
  return row?.name;
}

const invalidInvitation = () => notFound("Invitation (it may have been used, revoked or have expired)");

/** What the accept page shows before the invitee chooses a name and password. */
export async function invitationByToken(db: DirectoryDb, token: string, now: number) {
  const row = await db
    .select({
      email: invitations.email,
      role: invitations.role,
      accountName: accounts.name,
      expiresAt: invitations.expiresAt,
    })
    .from(invitations)
    .innerJoin(accounts, eq(accounts.id, invitations.accountId))
    .where(and(eq(invitations.tokenHash, await sha256Hex(token)), gt(invitations.expiresAt, now)))
    .get();
  if (!row) throw invalidInvitation();
  return { email: row.email, role: row.role, account_name: row.accountName, expires_at: iso(row.expiresAt) };
}

/**
 * Accepting creates the invitee's user and first session and uses the link up: the invitation
 * is deleted in the same transaction, and the unique email stops a second acceptance.
 */
export async function acceptInvitation(
  db: DirectoryDb,
  input: { token: string; name: string; password: string },
  now: number,
) {
  const tokenHash = await sha256Hex(input.token);
  const invitation = await db
    .select()
    .from(invitations)
    .where(and(eq(invitations.tokenHash, tokenHash), gt(invitations.expiresAt, now)))
    .get();
  if (!invitation) throw invalidInvitation();
  const user: User = {
    id: newId("user", now),
    accountId: invitation.accountId,
    email: invitation.email,
    name: input.name.trim(),
    passwordHash: await hashPassword(input.password),
    role: invitation.role,
    createdAt: now,
    updatedAt: now,
  };
  // The user is inserted only while the invitation still exists, and the invitation is deleted
  // in the same transaction: two acceptances of one link cannot both succeed.
  const [inserted] = await db.batch([
    db
      .insert(users)
      .select(db.select(literalRow(user)).from(invitations).where(eq(invitations.id, invitation.id)))
      .onConflictDoNothing()
      .returning({ id: users.id }),
    db.delete(invitations).where(eq(invitations.id, invitation.id)),
  ]);
  if (inserted.length === 0) {
    // Used up in the meantime, or the email got a login of its own since the invitation.
    if (await emailInUse(db, user.email)) {
      throw new ApiError("conflict", "This email already has a SnapTrack login; a person belongs to one account.");
    }
    throw invalidInvitation();
  }
  const account = await db.select().from(accounts).where(eq(accounts.id, user.accountId)).get();
  if (!account) throw invalidInvitation();
  return { account, user, sessionId: await createSession(db, user, now) };
}

/** `POST /auth/accept-invitation`: the new session and the account document the response shows. */
export async function acceptInvitationWithView(
  db: DirectoryDb,
  usageOf: (accountId: string) => Promise<CaptureUsage>,
  input: { token: string; name: string; password: string },
  now: number,
) {
  const { account, user, sessionId } = await acceptInvitation(db, input, now);
  return { sessionId, view: await sessionAccountView(db, await usageOf(account.id), account, now, user) };
}
