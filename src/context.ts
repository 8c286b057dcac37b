import type { AccountRecord } from "./db/schema";
import type { Clock } from "./lib/clock";
import type { CaptureUsage, Limiter } from "./limits/account-limiter";

/** What the app is built from; tests swap the clock (and, for fault injection, the limiter). */
export interface Deps {
  clock: Clock;
  limiter: (env: Env) => Limiter;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    deps: Deps;
    now: number;
    /** Set by bearer or session auth. */
    account: AccountRecord;
    /** Capture usage as of the gate (bearer requests only). */
    usage: CaptureUsage;
  };
}
