import type { AccountObject } from "../src/tenant/account-object";
import { inAccount } from "./helpers";

export type ObjectQueues = Partial<Pick<Env, "JOBS" | "WEBHOOKS">>;

/** The object's own bindings, kept while a test's queues stand in for them. */
const own = new WeakMap<AccountObject, Env>();

/**
 * Where the account's object sends what it sends itself — the jobs of captures and runs its
 * requests accept, its alarm's sweep and schedules (JOBS), webhook deliveries and their retries
 * (WEBHOOKS) — from now on: the test's queues (held, lost, recording) instead of its own. The
 * object is the sender now, so a queue passed to `appWith` or to the consumer no longer
 * reaches what it sends. `{}` gives it its own back. Lasts as long as the instance: an evicted
 * object starts again with its own.
 */
export async function objectQueues(accountId: string, queues: ObjectQueues): Promise<void> {
  await inAccount(accountId, (_db, object) => {
    const o = object as unknown as { env: Env; timers: { env: Env } };
    const base = own.get(object) ?? o.env;
    own.set(object, base);
    const env = { ...base, ...queues };
    o.env = env; // requests and job calls
    o.timers.env = env; // the alarm (sweep, schedules, retention)
  });
}
