import type { Db } from "./db/client";
import type { AccountRecord } from "./db/schema";
import type { Clock } from "./lib/clock";
import type { Limiter } from "./limits/account-limiter";
import type { LoginThrottler } from "./limits/login-throttle";
import type { CaptureUsage } from "./limits/subscription";
import type { Completions } from "./queue/completion";

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
    /** Capture usage as of the gate (bearer requests only). */
    usage: CaptureUsage;
  };
}
