import { describeError } from "../capture/errors";
import type { GuardPolicy } from "../capture/url-guard";
import { config, guardPolicy } from "../config";
import { accountStub } from "../db/account-stub";
import type { Webhook, WebhookDelivery } from "../db/schema";
import { WEBHOOK_RETRY_DELAYS_S, WEBHOOK_TIMEOUT_MS } from "../lib/values";
import type { JobOf } from "../queue/messages";
import type { AttemptOutcome } from "../services/deliveries";
import { checkWebhookUrl, signedHeaders, signingSecrets } from "../services/webhooks";

export interface WebhookWork {
  message: Message<unknown>;
  job: JobOf<"webhook">;
}

/** The longest wait between attempts; a receiver's `Retry-After` is honoured up to it. */
export const MAX_RETRY_DELAY_S = WEBHOOK_RETRY_DELAYS_S[WEBHOOK_RETRY_DELAYS_S.length - 1] as number;

/**
 * Seconds before the attempt after attempt `n` (1-based) failed, or null when that was the
 * last one. The schedule's delay, or the receiver's `Retry-After` when it asks for longer,
 * up to the schedule's longest delay (10 h).
 */
export function retryDelay(n: number, retryAfterSeconds: number | null): number | null {
  const scheduled = WEBHOOK_RETRY_DELAYS_S[n - 1];
  if (scheduled === undefined) return null;
  return Math.max(scheduled, Math.min(retryAfterSeconds ?? 0, MAX_RETRY_DELAY_S));
}

/** `Retry-After` as seconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

type Outcome = AttemptOutcome & { retryAfter?: number | null };

export interface DeliveryOptions {
  policy?: GuardPolicy;
  timeoutMs?: number;
}

/**
 * One attempt of one delivery: claimed in the account's object (the message names the
 * attempt it makes, so a redelivered message for an attempt already made sends nothing),
 * sent, and recorded there, which also sends the next attempt's message when one is due.
 * Returns `busy` when the attempt is in flight elsewhere (the message should come back later).
 */
export async function deliverWebhook(
  env: Env,
  job: JobOf<"webhook">,
  now: () => number,
  options: DeliveryOptions = {},
): Promise<"done" | "busy"> {
  const account = accountStub(env.ACCOUNT, job.account_id);
  const claim = await account.claimAttempt(job.account_id, job.delivery_id, job.attempt, now());
  if ("busy" in claim) return "busy";
  if ("done" in claim) return "done";
  const { claimed, webhook, body } = claim as { claimed: WebhookDelivery; webhook: Webhook; body: string };
  const outcome = await attempt(env, webhook, claimed.eventId, body, now(), options);
  const { retryAfter, ...result } = outcome;
  const delay = outcome.ok ? null : retryDelay(job.attempt, retryAfter ?? null);
  await account.recordAttempt(job.account_id, claimed, result, delay, now());
  return "done";
}

/** The SSRF guard again (DNS may have changed since the URL was stored), then one signed POST. */
async function attempt(
  env: Env,
  webhook: Webhook,
  eventId: string,
  body: string,
  now: number,
  options: DeliveryOptions,
): Promise<Outcome> {
  const failure = (error: string, status: number | null = null, durationMs: number | null = null) =>
    ({ ok: false, status, error, durationMs, retryAfter: null }) as const;
  const verdict = await checkWebhookUrl(webhook.url, options.policy ?? guardPolicy(env), "capturing");
  if (!verdict.ok) return failure(`Blocked ${webhook.url}: ${verdict.reason}`);
  let secrets: string[];
  try {
    secrets = await signingSecrets(config(env).SECRETS_KEY, webhook, now);
  } catch (err) {
    return failure(`The message could not be signed: ${describeError(err)}`);
  }
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(verdict.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "SnapTrack-Webhooks/1.0",
        ...signedHeaders(secrets, eventId, now, body),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return failure(
      timedOut ? `No answer within ${timeoutMs / 1000} s` : `Request failed: ${describeError(err)}`,
      null,
      Date.now() - started,
    );
  }
  const durationMs = Date.now() - started;
  await res.body?.cancel().catch(() => {});
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, durationMs };
  const error =
    res.status >= 300 && res.status < 400
      ? `Redirects are not followed (${res.status} to ${res.headers.get("location") ?? "nowhere"})`
      : `The endpoint answered ${res.status}`;
  return {
    ok: false,
    status: res.status,
    error,
    durationMs,
    retryAfter: parseRetryAfter(res.headers.get("retry-after"), now),
  };
}

/** Dead-lettered (the consumer itself kept failing): the delivery ends `failed`. */
export async function deliveryGaveUp(env: Env, job: JobOf<"webhook">, now: number) {
  await accountStub(env.ACCOUNT, job.account_id).deliveryGaveUp(job.account_id, job.delivery_id, now);
}
