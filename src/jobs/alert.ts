import { MAX_INLINE_IMAGE_BYTES, renderAlert } from "../alerts/messages";
import type { AlertPayload, ChannelTarget } from "../alerts/types";
import { describeError } from "../capture/errors";
import { appOrigin, guardPolicy } from "../config";
import { accountStub } from "../db/account-stub";
import type { AlertChannel, AlertDelivery } from "../db/schema";
import { WEBHOOK_TIMEOUT_MS } from "../lib/values";
import { sendMail } from "../mail/mail";
import type { JobOf } from "../queue/messages";
import { checkHookUrl } from "../services/alert-channels";
import type { AlertOutcome } from "../services/alerts";
import { type DeliveryOptions, parseRetryAfter, retryDelay } from "./webhook";

export interface AlertWork {
  message: Message<unknown>;
  job: JobOf<"alert">;
}

/** The SSRF guard's policy and the timeout, as for webhook attempts. */
export type AlertOptions = DeliveryOptions;

/**
 * One attempt of one alert delivery, as webhook attempts go: claimed in the account's object
 * (which hands over what to say), sent — an email through the mail path (src/mail: the Email
 * Service binding, and locally the account's outbox), or a Slack or Discord message POSTed
 * to its incoming webhook through the SSRF guard — and recorded there, which sends the next
 * attempt's message on the webhooks' retry schedule when one is due.
 */
export async function deliverAlert(
  env: Env,
  job: JobOf<"alert">,
  now: () => number,
  options: AlertOptions = {},
): Promise<"done" | "busy"> {
  const account = accountStub(env.ACCOUNT, job.account_id);
  const claim = await account.claimAlertAttempt(job.account_id, job.delivery_id, job.attempt, now());
  if ("busy" in claim) return "busy";
  if ("done" in claim) return "done";
  const { claimed, channel, payload } = claim as {
    claimed: AlertDelivery;
    channel: AlertChannel;
    payload: AlertPayload;
  };
  const origin = appOrigin(env);
  const target: ChannelTarget = {
    id: channel.id,
    type: channel.type,
    target: channel.target,
    unsubscribeUrl: `${origin}/alerts/unsubscribe/${channel.unsubscribeToken}`,
  };
  const outcome =
    channel.type === "email"
      ? await email(env, job.account_id, payload, target, origin, now())
      : await post(env, channel.type, target, payload, origin, now(), options);
  const { retryAfter, ...result } = outcome;
  const delay = outcome.ok ? null : retryDelay(job.attempt, retryAfter ?? null);
  await account.recordAlertAttempt(job.account_id, claimed, result, delay, now());
  return "done";
}

type Outcome = AlertOutcome & { retryAfter?: number | null };

async function email(
  env: Env,
  accountId: string,
  payload: AlertPayload,
  target: ChannelTarget,
  origin: string,
  now: number,
): Promise<Outcome> {
  const started = Date.now();
  const image =
    payload.kind === "alert" && payload.alert.type === "change.detected"
      ? await picture(env, payload.alert.image_key)
      : undefined;
  const rendered = renderAlert(payload, target, { origin }, image);
  if (!("email" in rendered)) return { ok: false, status: null, error: "not an email channel", durationMs: null };
  const stub = accountStub(env.ACCOUNT, accountId);
  const sent = await sendMail(env, { keep: (kept) => stub.keepMail(accountId, kept, now) }, rendered.email, now);
  const durationMs = Date.now() - started;
  return sent.sent
    ? { ok: true, status: null, durationMs }
    : { ok: false, status: null, error: `The mail was not accepted: ${sent.error}`, durationMs };
}

/** The change's small picture, when it was made and fits an email. */
async function picture(env: Env, key: string | null): Promise<Uint8Array | undefined> {
  if (!key) return undefined;
  const object = await env.SHOTS.get(key);
  if (!object || object.size > MAX_INLINE_IMAGE_BYTES) return undefined;
  return new Uint8Array(await object.arrayBuffer());
}

/** The SSRF guard again (DNS may have changed since the URL was stored), then one JSON POST. */
async function post(
  env: Env,
  type: "slack" | "discord",
  target: ChannelTarget,
  payload: AlertPayload,
  origin: string,
  now: number,
  options: AlertOptions,
): Promise<Outcome> {
  const failure = (error: string, status: number | null = null, durationMs: number | null = null) =>
    ({ ok: false, status, error, durationMs, retryAfter: null }) as const;
  const verdict = await checkHookUrl(type, target.target, options.policy ?? guardPolicy(env), "capturing");
  if (!verdict.ok) return failure(`Blocked ${target.target}: ${verdict.reason}`);
  const rendered = renderAlert(payload, target, { origin });
  if (!("json" in rendered)) return failure("not a chat channel");
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(verdict.url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "SnapTrack-Alerts/1.0" },
      body: JSON.stringify(rendered.json),
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
  const answer = await res.text().catch(() => "");
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, durationMs };
  const error =
    res.status >= 300 && res.status < 400
      ? `Redirects are not followed (${res.status} to ${res.headers.get("location") ?? "nowhere"})`
      : `The incoming webhook answered ${res.status}${answer ? `: ${answer.slice(0, 200)}` : ""}`;
  return {
    ok: false,
    status: res.status,
    error,
    durationMs,
    retryAfter: parseRetryAfter(res.headers.get("retry-after"), now),
  };
}

/** Dead-lettered (the consumer itself kept failing): the delivery ends `failed`. */
export async function alertGaveUp(env: Env, job: JobOf<"alert">, now: number) {
  await accountStub(env.ACCOUNT, job.account_id).alertDeliveryGaveUp(job.account_id, job.delivery_id, now);
}
