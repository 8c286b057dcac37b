import type { Db, DirectoryDb } from "./db/client";
import type { AccountRecord } from "./db/schema";
import type { Clock } from "./lib/clock";
import type { AccountSnapshot, GateResult } from "./limits/counters";
import type { LoginThrottler } from "./limits/login-throttle";
import type { CaptureUsage } from "./limits/subscription";
import type { SessionUser } from "./services/auth";
import type { AccountScope } from "./services/scope";

/** The account's object as the Worker calls it (its class: src/tenant/account-object.ts). */
export type AccountStub = ReturnType<Env["ACCOUNT"]["get"]>;

/** What the Worker is built from; tests swap the clock and, for fault injection, the objects. */
export interface Deps {
  clock: Clock;
  loginThrottle: (env: Env) => LoginThrottler;
  /** The account's object: every authenticated request is one call to it. */
  account: (env: Env, accountId: string) => AccountStub;
}

/** Who a request forwarded to the account's object comes from, as the Worker authenticated it. */
export type Caller =
  | { kind: "token"; tokenHash: string }
  | { kind: "session"; user: SessionUser; sessionId: string; csrf: string };

/** What the Worker hands the account's object with a request. */
export interface Forwarded {
  accountId: string;
  requestId: string;
  /** The Worker's clock for this request (injected in tests). */
  now: number;
  caller: Caller;
}

/**
 * The account's object as its own requests see it (src/tenant/account-object.ts): the
 * forwarded context of a request, the account's directory row (cached), its counters.
 */
export interface AccountHost {
  forwarded(request: Request): Forwarded;
  scope(): AccountScope;
  /** The account's directory row and token hash; null once the account is gone. */
  snapshot(): Promise<AccountSnapshot | null>;
  /** Counts a `/v1` request presented with `tokenHash` (see Counters.gate). */
  gate(snapshot: AccountSnapshot | null, tokenHash: string, now: number): GateResult;
  /** The directory row changed (plan, token, name): read it again on next use. */
  invalidate(): void;
  /** The account was deleted: its own database and alarm go (everything it stored here). */
  erase(): Promise<void>;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    deps: Deps;
    now: number;
    /** The directory (D1), made once per request. */
    directory: DirectoryDb;
    /** Inside the account's object only: the account's own database. */
    db: Db;
    scope: AccountScope;
    /** Inside the account's object only: the object itself, and who the Worker said the request is from. */
    host: AccountHost;
    forwarded: Forwarded;
    /** Set by bearer or session auth. */
    account: AccountRecord;
    /** The person behind a session (session auth only; API tokens belong to the account). */
    user: SessionUser;
    /** Capture usage as of the gate (bearer requests only). */
    usage: CaptureUsage;
    /** Dashboard pages: set for every page request, so errors render as HTML pages. */
    page: boolean;
    /** Dashboard pages with a session: its id (cookie value) and the CSRF token derived from it. */
    sessionId: string;
    csrf: string;
  };
}
