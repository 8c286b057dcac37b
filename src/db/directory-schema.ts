/**
 * The directory, in D1: who logs in (users, sessions), the accounts they act for (plan,
 * subscription, API token hash), invitations, and when each account's object next needs
 * waking. Nothing here grows with an account's use: its websites, captures, runs, webhooks
 * and the rest live in the account's own database (./account-schema.ts). Times are integer
 * milliseconds since the epoch (UTC).
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { PLAN_IDS, USER_ROLES } from "../lib/values";

const createdAt = () => integer("created_at").notNull();
/** The owning account: deleting it deletes the row. */
const ownerId = () =>
  text("account_id")
    .notNull()
    .references(() => accounts.id, { onDelete: "cascade" });
const updatedAt = () => integer("updated_at").notNull();

export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    plan: text("plan", { enum: PLAN_IDS }).notNull(),
    /** A downgrade waiting for `pendingPlanAt` (the period end when it was asked for). */
    pendingPlan: text("pending_plan", { enum: PLAN_IDS }),
    pendingPlanAt: integer("pending_plan_at"),
    currentPeriodEnd: integer("current_period_end").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /**
     * When the account's object next needs waking (a schedule, retention, a job to sweep), as
     * the object last set its alarm; null when nothing is due. The minute cron wakes accounts
     * whose time is well past (a lost alarm), reading only this index.
     */
    wakeAt: integer("wake_at"),
  },
  (t) => [index("accounts_wake").on(t.wakeAt)],
);

/**
 * The people who log in. Every user belongs to one account; whoever signs up is its owner,
 * the others joined through an invitation. Emails are unique across SnapTrack.
 */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("users_account").on(t.accountId)],
);

/** A single-use link to join an account; pending until accepted, revoked or expired. */
export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
    email: text("email").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull(),
    /** SHA-256 of the link's token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("invitations_account").on(t.accountId, t.expiresAt)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 of the cookie value; the value itself is never stored. */
    idHash: text("id_hash").primaryKey(),
    accountId: ownerId(),
    /** Removing a user ends their sessions with them. */
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    index("sessions_account").on(t.accountId),
    index("sessions_user").on(t.userId),
    index("sessions_expires").on(t.expiresAt),
  ],
);

/**
 * A password-reset link, mailed to the user: works once, for an hour. Only the token's hash
 * is stored; a new request replaces the user's earlier link.
 */
export const passwordResets = sqliteTable(
  "password_resets",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .unique()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("password_resets_expires").on(t.expiresAt)],
);

/** One active token per account (the primary key enforces it). */
export const apiTokens = sqliteTable("api_tokens", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  createdAt: createdAt(),
  lastUsedAt: integer("last_used_at"),
});

export type Account = typeof accounts.$inferSelect;
/** An account as handlers see it (logins and their passwords are users'). */
export type AccountRecord = Account;
export type User = typeof users.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;
export type PasswordReset = typeof passwordResets.$inferSelect;
