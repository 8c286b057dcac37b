import type { Db } from "./db/client";
import type { AccountRecord } from "./db/schema";
import type { Clock } from "./lib/clock";
import type { Limiter } from "./limits/account-limiter";
import type { LoginThrottler } from "./limits/login-throttle";
import type { CaptureUsage } from "./limits/subscription";
import type { Completions } from "./queue/completion";
import type { SessionUser } from "./services/auth";

/** What the app is built from; tests swap the clock (and, for fault injection, the limiters). */
export interface Deps {
  clock: Clock;
  limiter: (env: Env) => Limiter;
  loginThrottle: (env: Env) => LoginThrottler;
  /** Where `Prefer: wait` requests wait for their job (src/queue/completion.ts). */
  completions: (env: Env) => Completions;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    deps: Deps;
    /** The D1 database through drizzle, made once per request. */
    db: Db;
    now: number;
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
