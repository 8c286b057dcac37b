import { and, eq, gt } from "drizzle-orm";
import type { DirectoryDb } from "../db/client";
import { newId } from "../db/ids";
import { type Account, accounts, apiTokens, sessions, type User, users } from "../db/schema";
import { DISPLAY_PREFIX_CHARS, generateApiToken, hashApiToken } from "../lib/api-token";
import { DAY, iso, isoOrNull } from "../lib/clock";
import { burnPasswordCheck, hashPassword, randomSecret, sha256Hex, verifyPassword } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import type { UserRole } from "../lib/values";
import { beginLogin, type LoginThrottler } from "../limits/login-throttle";
import { type CaptureUsage, firstPeriodEnd } from "../limits/subscription";
import { seatsUsed } from "./accounts";

export const SESSION_COOKIE = "snaptrack_session";
export const SESSION_TTL = 30 * DAY;

/** Emails compare case-insensitively and without surrounding space. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Who is behind a session: the user and the account they act for. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
}

export const userView = (user: Pick<User, "id" | "email" | "name" | "role">): SessionUser => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
});

/** Owners manage the plan, the API token and the team; members use everything else. */
export const isOwner = (user: Pick<SessionUser, "role">) => user.role === "owner";

const emailTaken = () => new ApiError("conflict", "A SnapTrack login with this email already exists.");

/** True when D1 refused a write for a UNIQUE constraint (a race the pre-check cannot see). */
export const isUniqueViolation = (err: unknown) => String((err as Error)?.message ?? err).includes("UNIQUE constraint");

export async function emailInUse(db: DirectoryDb, email: string): Promise<boolean> {
  const row = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, normalizeEmail(email)))
    .get();
  return row !== undefined;
}

/** A new account with its owner: the person who signed up. */
export async function signup(
  db: DirectoryDb,
  input: { email: string; password: string; name: string },
  now: number,
): Promise<{ account: Account; user: User }> {
  const email = normalizeEmail(input.email);
  if (await emailInUse(db, email)) throw emailTaken();
  const name = input.name.trim();
  const account: Account = {
    id: newId("account", now),
    email,
    name,
    plan: "free",
    pendingPlan: null,
    pendingPlanAt: null,
    currentPeriodEnd: firstPeriodEnd(now),
    createdAt: now,
    updatedAt: now,
    wakeAt: null,
  };
  const user: User = {
    id: newId("user", now),
    accountId: account.id,
    email,
    name,
    passwordHash: await hashPassword(input.password),
    role: "owner",
    createdAt: now,
    updatedAt: now,
  };
  // One transaction; the unique indexes settle a race between two signups with one email.
  try {
    await db.batch([db.insert(accounts).values(account), db.insert(users).values(user)]);
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
  return { account, user };
}

export async function checkCredentials(
  db: DirectoryDb,
  email: string,
  password: string,
): Promise<{ account: Account; user: User }> {
  const row = await db
    .select({ user: users, account: accounts })
    .from(users)
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .where(eq(users.email, normalizeEmail(email)))
    .get();
  if (!row) {
    await burnPasswordCheck(password);
  } else if (await verifyPassword(password, row.user.passwordHash)) {
    return row;
  }
  throw new ApiError("unauthorized", "Email or password is wrong.");
}

/** `POST /auth/signup`: the new account, its owner and their first session id. */
export async function signupWithSession(
  db: DirectoryDb,
  input: { email: string; password: string; name: string },
  now: number,
) {
  const { account, user } = await signup(db, input, now);
  return { account, user, sessionId: await createSession(db, user, now) };
}

/**
 * `POST /auth/login`: throttled before any password work (limits/login-throttle), then the
 * credentials; a success ends the browser's previous session and starts a new one.
 */
export async function login(
  db: DirectoryDb,
  throttler: LoginThrottler,
  usageOf: (accountId: string) => Promise<CaptureUsage>,
  input: { email: string; password: string; address: string | undefined; previousSession: string | undefined },
  now: number,
  requestId: string,
) {
  const attempt = await beginLogin(
    throttler,
    { email: normalizeEmail(input.email), address: input.address },
    now,
    requestId,
  );
  let found: { account: Account; user: User };
  try {
    found = await checkCredentials(db, input.email, input.password);
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthorized") await attempt.failed();
    else await attempt.abandon();
    throw err;
  }
  await attempt.succeeded();
  if (input.previousSession) await endSession(db, input.previousSession);
  const sessionId = await createSession(db, found.user, now);
  const [usage, seats] = await Promise.all([usageOf(found.account.id), seatsUsed(db, found.account.id, now)]);
  return { ...found, sessionId, usage, seats };
}

/** A fresh session id every login; only its hash is stored. */
export async function createSession(
  db: DirectoryDb,
  user: Pick<User, "id" | "accountId">,
  now: number,
): Promise<string> {
  const id = randomSecret();
  await db.insert(sessions).values({
    idHash: await sha256Hex(id),
    accountId: user.accountId,
    userId: user.id,
    createdAt: now,
    expiresAt: now + SESSION_TTL,
  });
  return id;
}

/** The user and account behind a session cookie; one query. A removed user has no sessions. */
export async function resolveSession(
  db: DirectoryDb,
  sessionId: string,
  now: number,
): Promise<{ account: Account; user: SessionUser } | undefined> {
  const row = await db
    .select({
      account: accounts,
      user: { id: users.id, email: users.email, name: users.name, role: users.role },
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(accounts, eq(accounts.id, sessions.accountId))
    .where(and(eq(sessions.idHash, await sha256Hex(sessionId)), gt(sessions.expiresAt, now)))
    .get();
  return row;
}

export async function endSession(db: DirectoryDb, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, await sha256Hex(sessionId)));
}

/** The account a token hash belongs to (tokens never move between accounts). */
export async function tokenAccountId(db: DirectoryDb, tokenHash: string): Promise<string | undefined> {
  const row = await db
    .select({ accountId: apiTokens.accountId })
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, tokenHash))
    .get();
  return row?.accountId;
}

/**
 * Generates (or regenerates, replacing the old hash in the same row) the account's token.
 * `changed` is told at once (the account's object checks the token on every request), so the
 * old token fails on the very next request.
 */
export async function issueToken(db: DirectoryDb, changed: () => void, accountId: string, now: number) {
  const token = generateApiToken();
  const row = {
    accountId,
    tokenHash: await hashApiToken(token),
    prefix: token.slice(0, DISPLAY_PREFIX_CHARS),
    createdAt: now,
    lastUsedAt: null,
  };
  await db
    .insert(apiTokens)
    .values(row)
    .onConflictDoUpdate({
      target: apiTokens.accountId,
      set: { tokenHash: row.tokenHash, prefix: row.prefix, createdAt: now, lastUsedAt: null },
    });
  changed();
  return { token, view: tokenView(row) };
}

export async function revokeToken(db: DirectoryDb, changed: () => void, accountId: string): Promise<boolean> {
  const deleted = await db
    .delete(apiTokens)
    .where(eq(apiTokens.accountId, accountId))
    .returning({ id: apiTokens.accountId });
  changed();
  return deleted.length > 0;
}

export async function getToken(db: DirectoryDb, accountId: string) {
  const row = await db.select().from(apiTokens).where(eq(apiTokens.accountId, accountId)).get();
  return row ? tokenView(row) : undefined;
}

const tokenView = (row: { prefix: string; createdAt: number; lastUsedAt: number | null }) => ({
  prefix: row.prefix,
  created_at: iso(row.createdAt),
  last_used_at: isoOrNull(row.lastUsedAt),
});
