import { and, eq, gt } from "drizzle-orm";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { type Account, accounts, apiTokens, sessions } from "../db/schema";
import { DISPLAY_PREFIX_CHARS, generateApiToken, hashApiToken } from "../lib/api-token";
import { DAY, iso, isoOrNull } from "../lib/clock";
import { burnPasswordCheck, hashPassword, randomSecret, sha256Hex, verifyPassword } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import type { Limiter } from "../limits/account-limiter";
import { beginLogin, type LoginThrottler } from "../limits/login-throttle";
import { firstPeriodEnd } from "../limits/subscription";

export const SESSION_COOKIE = "snaptrack_session";
export const SESSION_TTL = 30 * DAY;

/** Emails compare case-insensitively and without surrounding space. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export async function signup(
  db: Db,
  input: { email: string; password: string; name: string },
  now: number,
): Promise<Account> {
  const email = normalizeEmail(input.email);
  const existing = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.email, email)).get();
  if (existing) throw new ApiError("conflict", "An account with this email already exists.");
  const account: Account = {
    id: newId("account", now),
    email,
    name: input.name.trim(),
    passwordHash: await hashPassword(input.password),
    plan: "free",
    pendingPlan: null,
    pendingPlanAt: null,
    currentPeriodEnd: firstPeriodEnd(now),
    createdAt: now,
    updatedAt: now,
  };
  // The unique index settles a race between two signups with one email.
  const inserted = await db.insert(accounts).values(account).onConflictDoNothing().returning({ id: accounts.id });
  if (inserted.length === 0) throw new ApiError("conflict", "An account with this email already exists.");
  return account;
}

export async function checkCredentials(db: Db, email: string, password: string): Promise<Account> {
  const account = await db
    .select()
    .from(accounts)
    .where(eq(accounts.email, normalizeEmail(email)))
    .get();
  if (!account) {
    await burnPasswordCheck(password);
  } else if (await verifyPassword(password, account.passwordHash)) {
    return account;
  }
  throw new ApiError("unauthorized", "Email or password is wrong.");
}

/** `POST /auth/signup`: the new account and its first session id. */
export async function signupWithSession(db: Db, input: { email: string; password: string; name: string }, now: number) {
  const account = await signup(db, input, now);
  return { account, sessionId: await createSession(db, account.id, now) };
}

/**
 * `POST /auth/login`: throttled before any password work (limits/login-throttle), then the
 * credentials; a success ends the browser's previous session and starts a new one.
 */
export async function login(
  db: Db,
  throttler: LoginThrottler,
  limiter: Limiter,
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
  let account: Account;
  try {
    account = await checkCredentials(db, input.email, input.password);
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthorized") await attempt.failed();
    else await attempt.abandon();
    throw err;
  }
  await attempt.succeeded();
  if (input.previousSession) await endSession(db, input.previousSession);
  const sessionId = await createSession(db, account.id, now);
  return { account, sessionId, usage: await limiter.usage(account.id, now) };
}

/** A fresh session id every login; only its hash is stored. */
export async function createSession(db: Db, accountId: string, now: number): Promise<string> {
  const id = randomSecret();
  await db.insert(sessions).values({
    idHash: await sha256Hex(id),
    accountId,
    createdAt: now,
    expiresAt: now + SESSION_TTL,
  });
  return id;
}

export async function sessionAccount(db: Db, sessionId: string, now: number): Promise<Account | undefined> {
  const row = await db
    .select({ account: accounts })
    .from(sessions)
    .innerJoin(accounts, eq(accounts.id, sessions.accountId))
    .where(and(eq(sessions.idHash, await sha256Hex(sessionId)), gt(sessions.expiresAt, now)))
    .get();
  return row?.account;
}

export async function endSession(db: Db, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, await sha256Hex(sessionId)));
}

/** The account a token hash belongs to (tokens never move between accounts). */
export async function tokenAccountId(db: Db, tokenHash: string): Promise<string | undefined> {
  const row = await db
    .select({ accountId: apiTokens.accountId })
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, tokenHash))
    .get();
  return row?.accountId;
}

/**
 * Generates (or regenerates, replacing the old hash in the same row) the account's token.
 * The limiter is told at once, so the old token fails on the very next request.
 */
export async function issueToken(db: Db, limiter: Limiter, accountId: string, now: number) {
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
  await limiter.invalidate(accountId);
  return { token, view: tokenView(row) };
}

export async function revokeToken(db: Db, limiter: Limiter, accountId: string): Promise<boolean> {
  const deleted = await db
    .delete(apiTokens)
    .where(eq(apiTokens.accountId, accountId))
    .returning({ id: apiTokens.accountId });
  await limiter.invalidate(accountId);
  return deleted.length > 0;
}

export async function getToken(db: Db, accountId: string) {
  const row = await db.select().from(apiTokens).where(eq(apiTokens.accountId, accountId)).get();
  return row ? tokenView(row) : undefined;
}

const tokenView = (row: { prefix: string; createdAt: number; lastUsedAt: number | null }) => ({
  prefix: row.prefix,
  created_at: iso(row.createdAt),
  last_used_at: isoOrNull(row.lastUsedAt),
});
